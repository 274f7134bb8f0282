"""Workspace pages of evaluations: list + start, results (live progress, charts, per-problem
table), one problem's samples, comparison. Thin: forms in, services/selectors out."""
from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from curation.roles import role_required, user_has_role
from curation.services.markdown_render import code_highlight
from curation.templatetags.partials import partial_render

from . import selectors, services
from .forms import EvalImportForm, EvalStartForm
from .models import EvalProblem, EvalRun

MAX_UPLOAD_BYTES = 256 * 1024 * 1024


def _htmx_target(request) -> str | None:
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target


def _list_context(request, start_form=None, import_form=None) -> dict:
    benchmarks = selectors.benchmark_names()
    return {
        "runs": selectors.eval_run_list()[:200],
        "start_form": start_form or EvalStartForm(benchmarks=benchmarks),
        "import_form": import_form or EvalImportForm(),
        "can_write": user_has_role(request.user, "curator"),
    }


@require_GET
@role_required("viewer")
def eval_list(request):
    return render(request, "evaluations/list.html", _list_context(request))


@require_POST
@role_required("curator")
def eval_start(request):
    form = EvalStartForm(request.POST, benchmarks=selectors.benchmark_names())
    if not form.is_valid():
        return render(request, "evaluations/list.html", _list_context(request, start_form=form), status=400)
    data = dict(form.cleaned_data)
    data["base_url"], data["model_name"] = data.get("base_url") or "", data.get("model_name") or ""
    try:
        run = services.eval_run_create(user=request.user, **data)
    except services.EvalInputError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return render(request, "evaluations/list.html", _list_context(request, start_form=form), status=400)
    messages.success(request, f"Evaluation #{run.pk} queued: {run.problem_count or run.total} samples to generate and judge.")
    return redirect("evaluations:detail", run_id=run.pk)


@require_POST
@role_required("curator")
def eval_import(request):
    form = EvalImportForm(request.POST, request.FILES)
    if form.is_valid() and form.cleaned_data["file"].size > MAX_UPLOAD_BYTES:
        form.add_error("file", "file too large")
    if not form.is_valid():
        return render(request, "evaluations/list.html", _list_context(request, import_form=form), status=400)
    data = form.cleaned_data["file"].read().decode("utf-8", errors="replace")
    try:
        run = services.eval_import_lcb(user=request.user, data=data, model_name=form.cleaned_data["model_name"],
                                       name=form.cleaned_data["name"], benchmark_name=form.cleaned_data["benchmark_name"])
    except services.EvalInputError as exc:
        form.add_error("file" if exc.field == "file" else None, exc.message)
        return render(request, "evaluations/list.html", _list_context(request, import_form=form), status=400)
    messages.success(request, f"Imported evaluation #{run.pk}: {run.problem_count} problems.")
    return redirect("evaluations:detail", run_id=run.pk)


@require_GET
@role_required("viewer")
def eval_detail(request, run_id: int):
    run = get_object_or_404(EvalRun.objects.select_related("checkpoint"), pk=run_id)
    context = {"run": run, "can_write": user_has_role(request.user, "curator")}
    if _htmx_target(request) == f"eval-{run.pk}":
        response = partial_render(request, "evaluations/detail.html", "progress", context)
        if run.is_finished:
            response["HX-Refresh"] = "true"  # the results appear with the whole page
    else:
        context.update(problems=selectors.eval_problems(run), charts=selectors.chart_data(run),
                       table=selectors.summary_table(run))
        response = render(request, "evaluations/detail.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@role_required("curator")
def eval_resume(request, run_id: int):
    run = get_object_or_404(EvalRun, pk=run_id)
    if not run.is_finished:
        messages.error(request, f"Evaluation #{run.pk} is still {run.status}.")
    else:
        services.eval_run_resume(run=run, user=request.user)
        messages.success(request, f"Evaluation #{run.pk} resumes: missing answers are asked again.")
    return redirect("evaluations:detail", run_id=run.pk)


@require_POST
@role_required("curator")
def eval_cancel(request, run_id: int):
    run = get_object_or_404(EvalRun, pk=run_id)
    try:
        services.eval_run_cancel(run=run, user=request.user)
        messages.success(request, f"Cancel requested for evaluation #{run.pk}.")
    except services.EvalInputError as exc:
        messages.error(request, exc.message)
    return redirect("evaluations:detail", run_id=run.pk)


@require_GET
@role_required("viewer")
def eval_problem(request, run_id: int, eval_problem_id: int):
    ep = get_object_or_404(EvalProblem.objects.select_related("run", "problem"), pk=eval_problem_id, run_id=run_id)
    samples = [(s, code_highlight(s.code, "cpp" if s.language == "cpp" else "python")) for s in selectors.eval_samples(ep)]
    return render(request, "evaluations/problem.html", {"run": ep.run, "ep": ep, "samples": samples})


@require_GET
@role_required("viewer")
def eval_custom_input(request, run_id: int):
    run = get_object_or_404(EvalRun, pk=run_id)
    body = json.dumps(selectors.lcb_custom_input(run), ensure_ascii=False, indent=1)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="eval-{run.pk}-lcb-custom-input.json"'
    return response


@require_GET
@role_required("viewer")
def eval_compare(request):
    try:
        ids = [int(x) for x in request.GET.getlist("runs") if x.strip()]
    except ValueError:
        raise Http404("runs must be evaluation ids") from None
    found = {r.pk: r for r in EvalRun.objects.filter(pk__in=ids)}
    runs = [found[i] for i in dict.fromkeys(ids) if i in found]
    comparison = selectors.eval_compare(runs) if len(runs) >= 2 else None
    chart = selectors.compare_chart(runs, comparison) if comparison else None
    return render(request, "evaluations/compare.html", {
        "runs": runs, "comparison": comparison, "chart": chart, "all_runs": selectors.eval_run_list()[:200],
        "selected": set(found),
    })


@require_GET
@role_required("viewer")
def eval_checkpoints(request, training_run_id: int):
    from training_jobs.models import TrainingRun

    training = get_object_or_404(TrainingRun, pk=training_run_id)
    curve = selectors.checkpoint_curve(training.pk)
    return render(request, "evaluations/checkpoints.html", {"training": training, "curve": curve})
