"""Workspace pages for training: runs list, launch form with a command preview, run page (live
curves, status timeline, log tail, checkpoints, cancel and retry) and compare runs. Thin: the
services write, the selectors read; charts get their data from json_script and a JSON endpoint."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST, require_http_methods

from curation.roles import role_required, user_has_role
from curation.templatetags.partials import partial_render
from curation.views import _is_partial
from training_jobs import selectors
from training_jobs.forms import LaunchForm
from training_jobs.models import TrainingRun
from training_jobs.services.launch import command_preview
from training_jobs.services.runs import (
    TRAINING_ROLE,
    TrainingInputError,
    recipe_config,
    recipe_create,
    training_run_cancel,
    training_run_create,
    training_run_retry,
)


def _vary(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request",))
    return response


def _run_or_404(run_id: int) -> TrainingRun:
    try:
        return selectors.training_run_get(run_id)
    except TrainingRun.DoesNotExist:
        raise Http404("no such training run") from None


@require_GET
@role_required("viewer")
def run_list(request):
    runs = list(selectors.training_run_list()[:200])
    context = {"runs": runs, "can_train": user_has_role(request.user, TRAINING_ROLE)}
    if _is_partial(request, "runs-table"):
        return _vary(partial_render(request, "training_jobs/run_list.html", "table", context))
    return _vary(render(request, "training_jobs/run_list.html", context))


def _recipe_from_form(form: LaunchForm, user, *, save: bool):
    data = form.cleaned_data
    if save:
        return recipe_create(name=data.get("name") or "", framework=data["framework"], algorithm=data["algorithm"],
                             base_model=data["base_model"], params=form.params(), user=user)
    from training_jobs.models import Recipe

    return Recipe(name="preview", framework=data["framework"], algorithm=data["algorithm"],
                  base_model=data["base_model"], params=form.params())


@require_http_methods(["GET", "POST"])
@role_required(TRAINING_ROLE)
def run_launch(request):
    form = LaunchForm(request.POST or None, initial={"train_snapshot": request.GET.get("snapshot")})
    if request.method == "POST" and form.is_valid():
        try:
            recipe = _recipe_from_form(form, request.user, save=True)
            run = training_run_create(user=request.user, name=form.cleaned_data.get("name") or "",
                                      train_snapshot=form.cleaned_data["train_snapshot"],
                                      val_snapshot=form.cleaned_data.get("val_snapshot"), recipe=recipe,
                                      target=form.cleaned_data["target"], **form.eval_schedule())
        except TrainingInputError as exc:
            name = next((n for n in (exc.field, f"p_{exc.field}") if n in form.fields), None)
            form.add_error(name, f"{exc.field}: {exc.message}")
        else:
            messages.success(request, f"Training run #{run.pk} queued.")
            return redirect("training_jobs:run_detail", run_id=run.pk)
    return _vary(render(request, "training_jobs/launch.html", {"form": form}, status=400 if form.errors else 200))


@require_POST
@role_required(TRAINING_ROLE)
def run_preview(request):
    """The command and config the launch would run (htmx partial of the launch page)."""
    form = LaunchForm(request.POST)
    context: dict = {"form": form}
    if form.is_valid():
        try:
            recipe = _recipe_from_form(form, request.user, save=False)
            run = TrainingRun(name="preview", train_snapshot=form.cleaned_data["train_snapshot"],
                              val_snapshot=form.cleaned_data.get("val_snapshot"), recipe=recipe,
                              target=form.cleaned_data["target"], config=recipe_config(recipe))
            context["preview"] = command_preview(run)
        except TrainingInputError as exc:
            context["preview_error"] = f"{exc.field}: {exc.message}"
    else:
        context["preview_error"] = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
    return _vary(partial_render(request, "training_jobs/launch.html", "preview", context))


@require_GET
@role_required("viewer")
def run_detail(request, run_id: int):
    run = _run_or_404(run_id)
    context = {
        "run": run,
        "attempts": list(run.attempts.order_by("number")),
        "attempt": run.current_attempt,
        "events": list(run.events.select_related("actor").order_by("created_at", "id")),
        "checkpoints": list(run.checkpoints.order_by("step")),
        "can_train": user_has_role(request.user, TRAINING_ROLE),
        "chart": {"metrics_url": request.path + "metrics.json", "live": not run.is_finished, "runs": [run.pk]},
    }
    if _is_partial(request, f"run-{run.pk}-status"):
        return _vary(partial_render(request, "training_jobs/run_detail.html", "status", context))
    # The evaluations of this run's checkpoints (pass@1 by difficulty against step). Imported
    # here: evaluations builds on training_jobs, the page only reads its selectors.
    from evaluations.selectors import checkpoint_curve, checkpoint_evaluations

    context["curve"] = checkpoint_curve(run.pk)
    context["evaluations"] = checkpoint_evaluations(run.pk)
    return _vary(render(request, "training_jobs/run_detail.html", context))


@require_GET
@role_required("viewer")
def run_metrics(request, run_id: int):
    run = _run_or_404(run_id)
    keys = request.GET.getlist("key") or None
    return JsonResponse({"run": run.pk, "status": run.status, "finished": run.is_finished,
                         "series": selectors.metric_series(run, keys)})


@require_POST
@role_required(TRAINING_ROLE)
def run_cancel(request, run_id: int):
    run = _run_or_404(run_id)
    try:
        training_run_cancel(run=run, user=request.user)
        messages.success(request, f"Cancel requested for run #{run.pk}.")
    except TrainingInputError as exc:
        messages.error(request, exc.message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("training_jobs:run_detail", run_id=run.pk)


@require_POST
@role_required(TRAINING_ROLE)
def run_retry(request, run_id: int):
    run = _run_or_404(run_id)
    try:
        attempt = training_run_retry(run=run, user=request.user)
        messages.success(request, f"Attempt {attempt.number} queued.")
    except TrainingInputError as exc:
        messages.error(request, exc.message)
    return redirect("training_jobs:run_detail", run_id=run.pk)


@require_GET
@role_required("viewer")
def run_compare(request):
    ids = [int(i) for i in request.GET.getlist("runs") if i.isdigit()][:8]
    runs = list(selectors.training_run_list().filter(pk__in=ids))
    runs.sort(key=lambda r: ids.index(r.pk))
    context = {"runs": runs, "all_runs": list(selectors.training_run_list()[:100]), "selected": ids}
    if runs:
        context.update(selectors.compare_data(runs))
    return _vary(render(request, "training_jobs/compare.html", context))
