"""The curator workspace: thin htmx views. Selectors read, services write, roles guard every view.

viewer: problem list, problem page, dashboard, jobs, own saved views
curator: review queue, bulk actions
adjudicator: adjudication queue
admin: imports and pipeline stages
"""
from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from curation import selectors
from curation.forms import BulkActionForm, ReviewForm, SavedViewForm, StageStartForm, UploadForm
from curation.models import DIMENSIONS, ImportRun, Problem, ReviewStatus, StageRun
from curation.roles import role_required, user_has_role
from curation.services import bulk as bulk_services
from curation.services import review as review_services
from curation.services import saved_views as saved_view_services
from curation.services.markdown_render import code_highlight, markdown_to_safe_html
from curation.templatetags.partials import partial_render
from curation.views_problem import problem_page_extras

LIST_TEMPLATE = "curation/problem_list.html"
SKIP_SESSION_KEY = "review_skipped"


# A view that answers the same URL with a whole page or, for htmx, a partial: caches must key on
# HX-Request, or a cached partial is served as the page (and back-button restores break).
partial_varies = vary_on_headers("HX-Request")


def _is_partial(request, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def _roles(user) -> dict:
    return {role: user_has_role(user, role) for role in ("viewer", "curator", "adjudicator", "admin")}


# --- Problem list ------------------------------------------------------------------------


@require_GET
@role_required("viewer")
@partial_varies
def problem_list(request):
    fs = selectors.problem_filter(request.GET)
    qs = selectors.problem_list(filterset=fs)
    page = selectors.problem_page(qs, page=request.GET.get("page"))
    query = selectors.filter_query_string(request.GET)
    context = {
        "filter": fs,
        "form_errors": fs.errors if fs.is_bound else {},
        "page": page,
        "query": query,
        "ordering": request.GET.get("ordering", ""),
        "detail_base": reverse("curation:problem_list"),
        "dimension_fields": [(dim, fs.form[f"{dim}_min"], fs.form[f"{dim}_max"]) for dim in DIMENSIONS],
        "roles": _roles(request.user),  # the partial too: curators get row checkboxes
    }
    if _is_partial(request, "results"):
        return partial_render(request, LIST_TEMPLATE, "results", context)
    context.update(
        {
            "platforms": selectors.platforms_known(),
            "saved_views": selectors.saved_views_for_user(request.user),
            "selections": selectors.selections_recent(),
            "bulk_actions": bulk_services.bulk_actions_for_user(request.user),
        }
    )
    return render(request, LIST_TEMPLATE, context)


@require_POST
@role_required("viewer")
def saved_view_save(request):
    form = SavedViewForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            view = saved_view_services.saved_view_save(
                user=request.user, name=form.cleaned_data["name"], query=query,
                ordering=request.POST.get("ordering", ""), overwrite=bool(request.POST.get("overwrite")),
            )
        except saved_view_services.SavedViewError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Saved view “{view.name}”.")
            query = view.query
    else:
        messages.error(request, "Give the view a name (at most 100 characters).")
    return HttpResponseRedirect(reverse("curation:problem_list") + (f"?{query}" if query else ""))


@require_POST
@role_required("viewer")
def saved_view_delete(request, view_id: int):
    try:
        saved_view_services.saved_view_delete(user=request.user, view_id=view_id)
    except saved_view_services.SavedViewError as exc:
        raise Http404(str(exc)) from None
    messages.success(request, "Saved view deleted.")
    return redirect("curation:problem_list")


# --- Problem page ------------------------------------------------------------------------


@require_GET
@role_required("viewer")
def problem_detail(request, problem_id: int):
    try:
        problem = selectors.problem_get(problem_id)
    except Problem.DoesNotExist:
        raise Http404("no such problem") from None
    solutions = selectors.problem_solutions(problem)
    reviews, hidden_reviews = selectors.problem_reviews_visible(problem, request.user)
    context = {
        "reviews": reviews,
        "hidden_reviews": hidden_reviews,
        "problem": problem,
        "statement_html": markdown_to_safe_html(problem.statement),
        "tests": selectors.problem_tests(problem),
        "solutions": [{"solution": s, "html": code_highlight(s.code, s.language)} for s in solutions],
        "verification": selectors.problem_verification(problem),
        "predictions": selectors.problem_predictions(problem),
        "duplicates": selectors.problem_duplicates(problem),
        "contamination": selectors.problem_contamination(problem),
        "history": selectors.problem_history(problem, request.user),
        "lease": selectors.problem_lease(problem),
        "scores": [(dim, getattr(problem, f"score_{dim}")) for dim in DIMENSIONS],
        "roles": _roles(request.user),
        "reviewable": problem.review_status in (ReviewStatus.UNREVIEWED, ReviewStatus.IN_REVIEW),
        "adjudicable": problem.review_status == ReviewStatus.NEEDS_ADJUDICATION,
        **problem_page_extras(request, problem),  # statement toggle, checkers (views_problem.py)
    }
    return render(request, "curation/problem_detail.html", context)


# --- Review ------------------------------------------------------------------------------


def _queue(adjudication: bool) -> dict:
    if adjudication:
        return {"name": "adjudication", "title": "Adjudication", "home": "curation:adjudicate", "next": "curation:adjudicate_next",
                "submit": "curation:adjudicate_submit", "undo": "curation:adjudicate_undo"}
    return {"name": "review", "title": "Review", "home": "curation:review", "next": "curation:review_next",
            "submit": "curation:review_submit", "undo": "curation:review_undo"}


def _scope_key(adjudication: bool) -> str:
    return "adjudication_scope" if adjudication else "review_scope"


def _scope(request, adjudication: bool) -> str:
    return request.session.get(_scope_key(adjudication), "")


def _lease_state(request, problem: Problem, lease, error: str) -> tuple[bool, str]:
    """(read only?, the one message saying why). A form the user no longer holds cannot be
    submitted, so it is shown read-only with a single explanation instead of a live form."""
    if lease is not None and lease.user_id == request.user.pk:
        return False, error
    if lease is not None:
        return True, (f"{lease.user.username} is reviewing this problem now (until {lease.expires_at:%H:%M} UTC): "
                      "your hold ended, so this form is read-only. Take the next problem.")
    return True, "Your hold on this problem has expired, so this form is read-only. Take the next problem, or open it again from its page."


def _review_context(request, problem: Problem | None, adjudication: bool, form: ReviewForm | None = None, error: str = "") -> dict:
    scope = _scope(request, adjudication)
    last = selectors.review_last_decision(request.user, adjudication=adjudication)
    context = {
        "queue": _queue(adjudication),
        "adjudication": adjudication,
        "problem": problem,
        "error": error,
        "counts": selectors.review_queue_counts(),
        "roles": _roles(request.user),
        "scope": scope,
        "scope_criteria": [(k, v) for k, v in QueryDict(scope).lists()],
        "saved_views": selectors.saved_views_for_user(request.user),
        "priority": review_services.QUEUE_PRIORITY,
        "last_decision": last if last is None or problem is None or last.problem_id != problem.pk else None,
    }
    if problem is not None:
        lease = selectors.problem_lease(problem)
        read_only, error = _lease_state(request, problem, lease, error)
        predictions = selectors.problem_predictions(problem)[:1]
        reviews, hidden = selectors.problem_reviews_visible(problem, request.user)
        bound = form is not None and form.is_bound
        context.update(
            {
                "error": error,
                "read_only": read_only,
                "statement_html": markdown_to_safe_html(problem.statement),
                "tests": selectors.problem_tests(problem),
                "solutions": [{"solution": s, "html": code_highlight(s.code, s.language)} for s in selectors.problem_solutions(problem)],
                "verification": selectors.problem_verification(problem),
                "duplicates": selectors.problem_duplicates(problem),
                "contamination": selectors.problem_contamination(problem),
                "predictions": predictions,
                "reviews": reviews,
                "hidden_reviews": hidden,
                "side_by_side": selectors.review_side_by_side(problem, reviews, predictions[0] if predictions else None)
                if adjudication else None,
                "lease": lease,
                "form": form,
                "score_rows": [
                    {
                        "index": i + 1,
                        "name": dim,
                        "label": dim.replace("_", " "),
                        "current": getattr(problem, f"score_{dim}"),
                        # An adjudicator starts from empty fields (a blank keeps the current score):
                        # pre-filled model scores would anchor the settling judgement.
                        "value": (form.data.get(f"score_{dim}") if bound else None)
                        or ("" if adjudication or getattr(problem, f"score_{dim}") is None else round(getattr(problem, f"score_{dim}"))),
                    }
                    for i, dim in enumerate(DIMENSIONS)
                ],
            }
        )
    return context


def _review_page(request, adjudication: bool):
    if "scope" in request.GET or "view" in request.GET:
        return _review_set_scope(request, adjudication)
    lease = selectors.review_lease_current(request.user, adjudication=adjudication)
    problem = selectors.problem_get(lease.problem_id) if lease else None
    return render(request, "curation/review.html", _review_context(request, problem, adjudication))


def _review_set_scope(request, adjudication: bool):
    """?scope=<list query> or ?view=<saved view id> scopes this user's queue; ?scope= clears it."""
    scope = request.GET.get("scope", "")
    view_id = request.GET.get("view")
    if view_id:
        view = selectors.saved_views_for_user(request.user).filter(pk=view_id if view_id.isdigit() else 0).first()
        if view is None:
            raise Http404("no such saved view")
        scope = view.query
    scope = selectors.filter_query_string(QueryDict(scope.lstrip("?")))
    try:
        review_services.review_scope_filter(Problem.objects.none(), scope)
    except review_services.ReviewError as exc:
        messages.error(request, str(exc))
        return redirect(_queue(adjudication)["home"])
    request.session[_scope_key(adjudication)] = scope
    messages.info(request, "The queue now takes problems matching the filter." if scope else "The queue now takes every problem.")
    return redirect(_queue(adjudication)["home"])


def _acquire(request, adjudication: bool, exclude_ids=()):
    try:
        return review_services.review_lease_acquire(
            user=request.user, adjudication=adjudication, exclude_ids=exclude_ids, scope=_scope(request, adjudication)
        )
    except review_services.ReviewError as exc:
        messages.error(request, str(exc))
        return None


def _review_next(request, adjudication: bool):
    skipped = list(request.session.get(SKIP_SESSION_KEY, []))
    skip = request.POST.get("skip")
    if skip:
        try:
            skip_id = int(skip)
        except ValueError:
            skip_id = None
        if skip_id is not None:
            review_services.review_lease_release(user=request.user, problem_id=skip_id)
            skipped = (skipped + [skip_id])[-200:]
            request.session[SKIP_SESSION_KEY] = skipped
    lease = _acquire(request, adjudication, skipped)
    if lease is None and skipped and not skip:
        # Nothing new: offer the skipped ones again.
        request.session[SKIP_SESSION_KEY] = []
        lease = _acquire(request, adjudication)
    if lease is None:
        messages.info(request, "The queue is empty: nothing is waiting for you" + (" in this scope." if _scope(request, adjudication) else "."))
    return redirect(_queue(adjudication)["home"])


def _review_submit(request, problem_id: int, adjudication: bool):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        problem = selectors.problem_get(problem_id)
        return render(
            request, "curation/review.html", _review_context(request, problem, adjudication, form, form.error_text()), status=400
        )
    try:
        review_services.review_submit(
            user=request.user,
            problem_id=problem_id,
            version=form.cleaned_data["version"],
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            scores=form.scores(),
            comment=form.cleaned_data["comment"],
            adjudication=adjudication,
        )
    except review_services.ReviewError as exc:
        status = 409 if isinstance(exc, (review_services.StaleVersionError, review_services.LeaseError)) else 400
        try:
            problem = selectors.problem_get(problem_id)
        except Problem.DoesNotExist:
            problem = None
        # A stale form shows the current version, with the reviewer's inputs discarded.
        stale = isinstance(exc, review_services.StaleVersionError)
        return render(
            request,
            "curation/review.html",
            _review_context(request, problem, adjudication, None if stale else form, str(exc)),
            status=status,
        )
    messages.success(request, f"Problem #{problem_id}: {form.cleaned_data['decision']}ed.")
    lease = _acquire(request, adjudication, request.session.get(SKIP_SESSION_KEY, []))
    if lease is None:
        messages.info(request, "That was the last one: the queue is empty.")
    return redirect(_queue(adjudication)["home"])


def _review_undo(request, adjudication: bool):
    try:
        problem = review_services.review_undo_last(user=request.user, adjudication=adjudication)
    except review_services.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Your decision on problem #{problem.pk} is undone; it is open for you again.")
    return redirect(_queue(adjudication)["home"])


@require_GET
@role_required("curator")
def review(request):
    return _review_page(request, adjudication=False)


@require_POST
@role_required("curator")
def review_next(request):
    return _review_next(request, adjudication=False)


@require_POST
@role_required("curator")
def review_submit(request, problem_id: int):
    return _review_submit(request, problem_id, adjudication=False)


@require_POST
@role_required("curator")
def review_take(request, problem_id: int):
    """Take a specific problem from its page into one's review (or adjudication) queue."""
    problem = Problem.objects.filter(pk=problem_id).only("review_status").first()
    if problem is None:
        raise Http404("no such problem")
    adjudication = problem.review_status == ReviewStatus.NEEDS_ADJUDICATION
    if adjudication and not user_has_role(request.user, "adjudicator"):
        messages.error(request, "This problem waits for an adjudicator.")
        return redirect("curation:problem_detail", problem_id=problem_id)
    lease = review_services.review_lease_acquire(user=request.user, adjudication=adjudication, problem_id=problem_id)
    if lease is None:
        messages.error(request, "Someone else is reviewing this problem, or you have already reviewed it.")
        return redirect("curation:problem_detail", problem_id=problem_id)
    return redirect(_queue(adjudication)["home"])


@require_POST
@role_required("curator")
def review_undo(request):
    return _review_undo(request, adjudication=False)


@require_POST
@role_required("adjudicator")
def adjudicate_undo(request):
    return _review_undo(request, adjudication=True)


@require_GET
@role_required("adjudicator")
def adjudicate(request):
    return _review_page(request, adjudication=True)


@require_POST
@role_required("adjudicator")
def adjudicate_next(request):
    return _review_next(request, adjudication=True)


@require_POST
@role_required("adjudicator")
def adjudicate_submit(request, problem_id: int):
    return _review_submit(request, problem_id, adjudication=True)


# --- Bulk actions and jobs ----------------------------------------------------------------


@require_POST
@role_required("curator")
def bulk_action(request):
    form = BulkActionForm(request.POST)
    back = reverse("curation:problem_list") + (f"?{request.POST.get('query', '')}" if request.POST.get("query") else "")
    if not form.is_valid():
        messages.error(request, "Choose a bulk action.")
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    picked = data["scope"] == "picked"
    ids = request.POST.getlist("ids") if picked else []
    if picked and not ids:
        messages.error(request, "No rows are picked: tick some rows, or choose every problem the filter matches.")
        return HttpResponseRedirect(back)
    args = {
        "action": data["action"],
        "query": data["query"] or "",
        "reason": data["reason"] or "",
        "selection_id": data["selection"],
        "selection_name": data["selection_name"] or "",
        "ids": ids,
    }
    try:
        bulk_services.bulk_action_validate(user=request.user, **args)
        if not data["confirmed"]:
            count = bulk_services.bulk_action_count(query=args["query"], ids=ids)
            conflict_count, conflicts = bulk_services.bulk_conflicts(action=args["action"], query=args["query"], ids=ids)
            return render(
                request,
                "curation/bulk_confirm.html",
                {
                    **args,
                    "count": count,
                    "conflict_count": conflict_count,
                    "conflicts": conflicts,
                    "acting_on": count - conflict_count,
                    "picked": picked,
                    "label": bulk_services.BULK_ACTIONS[args["action"]],
                    "criteria": [(k, v) for k, v in QueryDict(args["query"]).lists()],
                    "back": back,
                },
            )
        run = bulk_services.bulk_action_start(user=request.user, include_conflicts=data["include_conflicts"], **args)
    except bulk_services.BulkActionError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    messages.success(request, f"{bulk_services.BULK_ACTIONS[args['action']]} started on {run.total} problems.")
    return redirect("curation:stage_run_detail", run_id=run.pk)


@require_POST
@role_required("curator")
def bulk_undo(request, run_id: int):
    try:
        run = bulk_services.bulk_undo_start(user=request.user, run_id=run_id)
    except bulk_services.BulkActionError as exc:
        messages.error(request, str(exc))
        return redirect("curation:stage_run_detail", run_id=run_id)
    messages.success(request, f"Undo of bulk run #{run_id} started.")
    return redirect("curation:stage_run_detail", run_id=run.pk)


@require_GET
@role_required("viewer")
@partial_varies
def stage_run_detail(request, run_id: int):
    try:
        run = selectors.stage_run_get(run_id)
    except StageRun.DoesNotExist:
        raise Http404("no such run") from None
    if run.stage == "snapshot":
        from curation.services.snapshot_jobs import snapshot_job_progress

        run.done = snapshot_job_progress(run)  # freezing runs in one transaction: its progress is in the cache
    from curation import pipeline_selectors

    context = {"run": run, "kind": "stage", "outcome": pipeline_selectors.run_outcome(run),
               "count_rows": pipeline_selectors.run_count_rows(run),
               "error_groups": pipeline_selectors.run_error_groups(run) if run.errors else []}
    if run.stage == "bulk" and run.step in bulk_services.UNDOABLE:
        blocker = bulk_services.bulk_undo_blocker(run)
        context["undo"] = {
            "blocker": blocker,
            "allowed": user_has_role(request.user, bulk_services.action_role(run.step)),
        }
    if _is_partial(request, f"job-{run.pk}"):
        return partial_render(request, "curation/job.html", "progress", context)
    return render(request, "curation/job.html", context)


@require_GET
@role_required("viewer")
@partial_varies
def import_run_detail(request, run_id: int):
    try:
        run = selectors.import_run_get(run_id)
    except ImportRun.DoesNotExist:
        raise Http404("no such import") from None
    context = {"run": run, "kind": "import"}
    if _is_partial(request, f"job-{run.pk}"):
        return partial_render(request, "curation/job.html", "progress", context)
    return render(request, "curation/job.html", context)


# --- Dashboard and pipeline ---------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
@role_required("viewer")
@partial_varies
def dashboard(request):
    jobs = selectors.jobs_recent()
    if _is_partial(request, "jobs"):
        return partial_render(request, "curation/dashboard.html", "jobs", {"jobs": jobs})
    try:
        selection_id = int(request.GET.get("selection") or 0) or None
    except ValueError:
        selection_id = None
    stats = selectors.dashboard_stats(selection_id=selection_id)
    if _is_partial(request, "stage-counts"):
        context = {"stats": stats, "jobs": jobs, "queue_counts": selectors.review_queue_counts()}
        return partial_render(request, "curation/dashboard.html", "cards", context)
    context = {
        "stats": stats,
        "jobs": jobs,
        "selections": selectors.selections_recent(),
        "queue_counts": selectors.review_queue_counts(),
        "charts": {
            "before": stats["buckets_before"],
            "after": stats["buckets_after"],
            "sources": stats["sources"],
            "platforms": stats["platforms"],
            "timeline": stats["timeline"],
            "calibration": stats["calibration"],
            "selection": stats["selection"],
        },
        "roles": _roles(request.user),
        "judge_mode": selectors.judge_mode_now(),
        "sandbox_problem": _sandbox_problem(stats),
    }
    return render(request, "curation/dashboard.html", context)


# Who may start stages and imports from the page (the nav shows the link to the same role).
PIPELINE_ROLE = "admin"


def _stage_panels(posted_stage: str = "", values=None, errors=None) -> list[dict]:
    """One panel per stage on the page, built from the stage map: description, its options as
    fields (the posted values kept after an error), what it will touch, its prerequisites, its
    last run."""
    from curation import pipeline_selectors
    from curation.pipeline import BY_NAME, pipeline_page_stages, stage_options_parse

    stages = pipeline_page_stages()
    last = pipeline_selectors.stage_last_runs([s.name for s in stages])
    facts = pipeline_selectors.StoreFacts()  # each count read once for all panels
    panels = []
    for stage in stages:
        mine = stage.name == posted_stage and values is not None
        data = values if mine else {}
        params, step, _errors = stage_options_parse(stage, data)
        panels.append({
            "stage": stage,
            "needs": [BY_NAME[p].label for p in stage.prerequisites],
            "fields": _option_fields(stage, data, errors if mine else {}),
            "state": pipeline_selectors.stage_state(stage, params, step, facts),
            "last": last.get(stage.name),
            "errors": (errors or {}) if mine else {},
        })
    return panels


def _option_fields(stage, data, errors) -> list[dict]:
    fields = []
    for opt in stage.options:
        raw = data.get(opt.name) if data else None
        if opt.kind == "bool":
            value = str(raw or "").lower() in ("1", "true", "on", "yes")
        else:
            value = "" if raw is None else str(raw)[:200]
        fields.append({"opt": opt, "id": f"opt-{stage.name}-{opt.name}", "value": value, "error": errors.get(opt.name, ""),
                       "placeholder": "" if opt.default in (None, "", False) else str(opt.default)})
    return fields


def _sandbox_problem(stats: dict) -> str:
    """Why nothing can be verified on this machine, when problems wait for verification and
    bubblewrap does not work here (the probe is cached per process); "" otherwise. `make run`
    skips verification in that case, and this says so where a newcomer looks."""
    if not stats["verification"].get("unverified"):
        return ""
    from curation.judge import bwrap_status
    from curation.services.verification import sandbox_config

    usable, reason = bwrap_status(sandbox_config())
    return "" if usable else reason


def _pipeline_context(request, upload_form=None, *, passrate_form=None, posted_stage: str = "", values=None, errors=None) -> dict:
    from curation.collect import available_formats
    from curation.forms import PassRateUploadForm
    from curation.pipeline import BY_NAME

    formats = sorted(available_formats())
    return {
        "upload_form": upload_form or UploadForm(formats=formats),
        "passrate_form": passrate_form or PassRateUploadForm(),
        "passrate_stage": BY_NAME["pass_rates"],
        "passrate_last": selectors.stage_runs_recent(stage="pass_rates", limit=1),
        "upload_cap": settings.PASS_RATE_UPLOAD_MAX_BYTES,
        "formats": formats,
        "panels": _stage_panels(posted_stage, values, errors),
        "jobs": selectors.jobs_recent(),
        "may_run": user_has_role(request.user, PIPELINE_ROLE),
    }


@require_GET
@role_required(PIPELINE_ROLE)
def pipeline(request):
    return render(request, "curation/pipeline.html", _pipeline_context(request))


@require_GET
@role_required(PIPELINE_ROLE)
def pipeline_touch(request):
    """htmx: a stage's count and prerequisites for the options in the form, as they change."""
    from curation import pipeline_selectors
    from curation.pipeline import pipeline_page_stages, stage_options_parse

    stage = next((s for s in pipeline_page_stages() if s.name == request.GET.get("stage")), None)
    if stage is None:
        raise Http404("no such stage on the pipeline page")
    params, step, errors = stage_options_parse(stage, request.GET)
    panel = {"stage": stage, "state": pipeline_selectors.stage_state(stage, params, step), "errors": errors}
    return partial_render(request, "curation/pipeline.html", "touch", {"p": panel})


@require_POST
@role_required(PIPELINE_ROLE)
def pipeline_import(request):
    from curation.collect import available_formats
    from curation.services.imports import ImportRequestError, import_run_create, import_run_enqueue

    form = UploadForm(request.POST, request.FILES, formats=sorted(available_formats()))
    if not form.is_valid():
        return render(request, "curation/pipeline.html", _pipeline_context(request, form), status=400)
    upload = form.cleaned_data["file"]
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (get_valid_filename(Path(upload.name).name) or "upload")
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    try:
        run = import_run_create(
            path=str(path), format_name=form.cleaned_data["format"], source_name=form.cleaned_data["source_name"] or None, user=request.user
        )
        import_run_enqueue(run)
    except ImportRequestError as exc:
        messages.error(request, str(exc))
        return redirect("curation:pipeline")
    messages.success(request, f"Import #{run.pk} queued: {path.name} as {run.format}.")
    return redirect("curation:import_run_detail", run_id=run.pk)


@require_POST
@role_required(PIPELINE_ROLE)
def pipeline_stage(request):
    """Start a stage with the options posted: each checked by the option's own parse, as the
    command checks its flags; a bad one re-renders the page naming the field."""
    from curation import pipeline_selectors
    from curation.pipeline import BY_NAME, stage_options_parse
    from curation.services.stages import stage_run_start

    form = StageStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown stage.")
        return redirect("curation:pipeline")
    stage = BY_NAME[form.cleaned_data["stage"]]
    params, step, errors = stage_options_parse(stage, request.POST)
    if not errors:
        state = pipeline_selectors.stage_state(stage, params, step)
        if state.blocked:
            missing = "; ".join(f"{p.label}: {p.detail}" for p in state.prerequisites if p.blocking and not p.ok)
            errors = {"start": f"{stage.label} cannot start yet — {missing}"}
    if errors:
        context = _pipeline_context(request, posted_stage=stage.name, values=request.POST, errors=errors)
        return render(request, "curation/pipeline.html", context, status=400)
    run = stage_run_start(stage=stage.name, user=request.user, params=params, step=step)
    messages.success(request, f"Started {stage.label} run #{run.pk}.")
    return redirect("curation:stage_run_detail", run_id=run.pk)


@require_POST
@role_required(PIPELINE_ROLE)
def pipeline_pass_rates(request):
    """Upload a graded file and import it as a background job (a `pass_rates` StageRun)."""
    from curation.forms import PassRateUploadForm
    from curation.services.pass_rates import pass_rates_import_start

    form = PassRateUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "curation/pipeline.html", _pipeline_context(request, passrate_form=form), status=400)
    run = pass_rates_import_start(upload=form.cleaned_data["file"], model=form.cleaned_data["model"] or None, user=request.user)
    messages.success(request, f"Pass-rate import #{run.pk} queued: {form.results_count} graded results in {run.params['file_name']}.")
    return redirect("curation:stage_run_detail", run_id=run.pk)
