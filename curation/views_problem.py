"""Problem page tools: the statement's raw/rendered toggle and the checkers card (see, edit,
synthesise, approve). Kept apart from `views.py` so the page's main view stays small: it only adds
`problem_page_extras(...)` to its context; the template holds both cards as named partials.
"""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from curation import selectors
from curation.models import CheckerCandidate, CheckerStatus, Problem
from curation.roles import role_required, user_has_role
from curation.services import checkers as checker_services
from curation.services import stages
from curation.services.markdown_render import code_highlight, markdown_to_safe_html
from curation.templatetags.partials import partial_render

TEMPLATE = "curation/problem_detail.html"
STATEMENT_MODES = ("rendered", "raw")


def problem_page_extras(request, problem: Problem) -> dict:
    """Context the statement and checkers partials need (the page passes it through)."""
    mode = request.GET.get("statement", "rendered")
    mode = mode if mode in STATEMENT_MODES else "rendered"
    return {
        "statement_mode": mode,
        "statement_raw": problem.statement_original or problem.statement,
        "statement_warnings": (problem.extra or {}).get("statement_warnings") or {},
        "checkers": _checkers(problem),
        "can_curate": user_has_role(request.user, "curator"),
        "editing": _editing(request, problem),
    }


def _editing(request, problem: Problem) -> CheckerCandidate | None:
    raw = request.GET.get("edit_checker", "")
    return CheckerCandidate.objects.filter(pk=int(raw), problem=problem).first() if raw.isdigit() else None


def _checkers(problem: Problem) -> list[dict]:
    return [{"candidate": c, "html": code_highlight(c.source, "python")} for c in selectors.problem_checker_candidates(problem)]


def _problem(problem_id: int) -> Problem:
    try:
        return selectors.problem_get(problem_id)
    except Problem.DoesNotExist:
        raise Http404("no such problem") from None


def _to_checkers(problem_id: int):
    return redirect(reverse("curation:problem_detail", args=[problem_id]) + "#checkers")


def _candidate(candidate_id: int) -> CheckerCandidate:
    candidate = CheckerCandidate.objects.filter(pk=candidate_id).first()
    if candidate is None:
        raise Http404("no such checker")
    return candidate


def _partial(request, problem: Problem, name: str, extra: dict | None = None):
    context = {"problem": problem, **problem_page_extras(request, problem), **(extra or {})}
    if name == "statement":
        context["statement_html"] = markdown_to_safe_html(problem.statement)
    response = partial_render(request, TEMPLATE, name, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@role_required("viewer")
def problem_statement(request, problem_id: int):
    """The statement as rendered or as imported (`?statement=raw`): a partial for htmx, else the
    page at that mode (the toggle's links work without JavaScript)."""
    problem = _problem(problem_id)
    if getattr(request, "htmx", None):
        return _partial(request, problem, "statement")
    mode = request.GET.get("statement", "rendered")
    url = reverse("curation:problem_detail", args=[problem.pk])
    response = redirect(f"{url}?statement={mode if mode in STATEMENT_MODES else 'rendered'}#statement")
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@role_required("curator")
def checker_synthesize(request, problem_id: int):
    """Start synthesis as a job (LLM + sandbox: never inside the request) and follow it."""
    problem = _problem(problem_id)
    try:
        run = stages.stage_run_start(stage="checkers", user=request.user, problem_ids=[problem.pk])
    except (stages.UnknownStageError, ValueError) as exc:
        messages.error(request, str(exc))
        return _to_checkers(problem.pk)
    return redirect("curation:stage_run_detail", run_id=run.pk)


@require_POST
@role_required("curator")
def checker_save(request, problem_id: int):
    """A curator's checker (new, or an edited candidate): validated in the sandbox, kept either way."""
    problem = _problem(problem_id)
    source = request.POST.get("source", "").replace("\r\n", "\n")
    try:
        candidate = checker_services.checker_save(problem, source, user=request.user)
    except checker_services.CheckerError as exc:
        messages.error(request, str(exc))
    else:
        if candidate.status == CheckerStatus.VALID:
            messages.success(request, f"Checker #{candidate.pk} passed validation: {candidate.reason}")
        else:
            messages.error(request, f"Checker #{candidate.pk} failed validation: {candidate.reason}")
    return _to_checkers(problem.pk)


@require_POST
@role_required("curator")
def checker_approve(request, candidate_id: int):
    candidate = _candidate(candidate_id)
    try:
        checker_services.checker_approve(candidate, user=request.user)
    except checker_services.CheckerError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Checker #{candidate.pk} approved; verification re-runs with it.")
    return _to_checkers(candidate.problem_id)


@require_GET
@role_required("viewer")
def checker_edit(request, candidate_id: int):
    """The checkers card with a candidate's source in the editor (htmx partial, or the page)."""
    candidate = _candidate(candidate_id)
    if getattr(request, "htmx", None):
        return _partial(request, _problem(candidate.problem_id), "checkers", {"editing": candidate})
    url = reverse("curation:problem_detail", args=[candidate.problem_id])
    response = redirect(f"{url}?edit_checker={candidate.pk}#checkers")
    patch_vary_headers(response, ("HX-Request",))
    return response
