"""The calibration workbench and the selection page: thin htmx views.

GET pages carry the whole proposal in the query string, so every what-if is a bookmarkable URL
and works without JavaScript; htmx asks for the named partial only (`Vary: HX-Request`).
viewer: look and what-if; curator: save versions, apply selections, snapshots; admin: activate.
"""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from curation import workbench_selectors as wsel
from curation.difficulty import workbench as wb
from curation.difficulty.rubric import DEFAULT_RUBRIC, DIMENSION_KEYS
from curation.models import Calibration, DifficultyRubric, Selection
from curation.roles import role_required, user_has_role
from curation.services import calibration_versions as cal_services
from curation.services import selection_versions as sel_services
from curation.templatetags.partials import partial_render

CAL_TEMPLATE = "curation/calibration/workbench.html"
SEL_TEMPLATE = "curation/calibration/selection.html"


def _htmx_target(request) -> str | None:
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target


def _vary(response):
    patch_vary_headers(response, ("HX-Request",))
    return response


def _defaults() -> dict:
    """The form starts from the active calibration (weights, method, bounds), else the active rubric."""
    active = wsel.calibration_active()
    if active is not None:
        weights = dict(active.weights)
        bounds = active.bucket_bounds or {}
        return {"weights": weights, "method": active.method, "easy_min": bounds.get("easy_min", 0.8), "hard_max": bounds.get("hard_max", 0.2)}
    rubric = DifficultyRubric.objects.filter(is_active=True).first()
    weights = dict(rubric.weights) if rubric else dict(DEFAULT_RUBRIC.weights)
    return {"weights": weights, "method": "isotonic", "easy_min": 0.8, "hard_max": 0.2}


def proposal_from_query(data) -> wb.Proposal:
    """A proposal from form/query data; missing values fall back to the active calibration
    (looked up only when something is missing: a what-if carries every value)."""
    keys = [f"weight_{k}" for k in DIMENSION_KEYS] + ["method", "easy_min", "hard_max"]
    d = _defaults() if any(data.get(k) in (None, "") for k in keys) else {"weights": {}}
    weights = {k: data.get(f"weight_{k}") or d["weights"].get(k, 0.0) for k in DIMENSION_KEYS}
    origins = data.getlist("origins") if hasattr(data, "getlist") and "origins" in data else (data.get("origins") or list(wb.ORIGINS))
    if isinstance(origins, str):
        origins = [origins]
    use_human = str(data.get("use_human", "")).lower() in ("1", "true", "on", "yes")
    return wb.proposal_from(weights, method=data.get("method") or d["method"], easy_min=data.get("easy_min") or d["easy_min"],
                            hard_max=data.get("hard_max") or d["hard_max"], use_human=use_human, origins=origins)


def _form_values(proposal: wb.Proposal) -> dict:
    return {
        "weights": [{"key": k, "label": k.replace("_", " "), "value": round(v, 4)} for k, v in proposal.weights_dict().items()],
        "method": proposal.method, "easy_min": proposal.easy_min, "hard_max": proposal.hard_max,
        "use_human": proposal.use_human, "origins": list(proposal.origins),
    }


def _chart_data(result: dict) -> dict:
    return {k: result.get(k) for k in ("points", "curve", "band", "reliability", "counts", "evidence_counts", "rho", "n", "points_total")}


def _workbench_context(request, proposal: wb.Proposal, fit: dict | None = None, error: wb.WorkbenchError | None = None) -> dict:
    evidence, pool = wsel.workbench_data()
    result = wb.whatif(evidence, pool, proposal)
    return {
        "form": _form_values(proposal), "result": result, "fit": fit, "error": error,
        "chart": _chart_data(result), "methods": ("isotonic", "logistic"), "origin_choices": wb.ORIGINS,
        "can_save": user_has_role(request.user, "curator"), "can_activate": user_has_role(request.user, "admin"),
        "can_review": user_has_role(request.user, "curator"), "pool_size": len(pool.ids),
    }


@require_GET
@role_required("viewer")
def calibration_workbench(request):
    error = None
    fit = None
    try:
        proposal = proposal_from_query(request.GET)
    except wb.WorkbenchError as exc:
        error = exc
        proposal = proposal_from_query({})
    if error is None and request.GET.get("fit"):
        # Fit suggests weights; nothing is stored until the curator saves a version.
        evidence, _pool = wsel.workbench_data()
        try:
            fit = wb.fit_weights(evidence, proposal)
        except wb.WorkbenchError as exc:
            error = exc
        else:
            proposal = wb.proposal_from(fit["weights"], method=proposal.method, easy_min=proposal.easy_min,
                                        hard_max=proposal.hard_max, use_human=proposal.use_human, origins=proposal.origins)
    context = _workbench_context(request, proposal, fit, error)
    target = _htmx_target(request)
    if target == "wb-results":
        return _vary(partial_render(request, CAL_TEMPLATE, "results", context))
    if target == "workbench":
        return _vary(partial_render(request, CAL_TEMPLATE, "workbench", context))
    context.update({
        "versions": wsel.calibration_versions(), "active": wsel.calibration_active(),
        "ratings": wsel.platform_rating_evidence(),
        "label_rho": wsel.label_rho(wsel.workbench_data()[0]),
    })
    return _vary(render(request, CAL_TEMPLATE, context, status=400 if error else 200))


@require_POST
@role_required("curator")
def calibration_save(request):
    try:
        proposal = proposal_from_query(request.POST)
        fit = None
        if request.POST.get("fitted") == "1":
            fit = wb.fit_weights(wsel.workbench_data()[0], proposal)
        row = cal_services.calibration_version_save(user=request.user, proposal=proposal, label=request.POST.get("label", ""), fit=fit)
    except (wb.WorkbenchError, cal_services.CalibrationVersionError) as exc:
        messages.error(request, f"Not saved: {exc}")
        return redirect("curation:calibration")
    messages.success(request, f"Saved calibration {row.version}" + (f" “{row.label}”" if row.label else "") + ".")
    return HttpResponseRedirect(reverse("curation:calibration") + "?" + _query_of(proposal))


def _query_of(proposal: wb.Proposal) -> str:
    from urllib.parse import urlencode

    pairs = [(f"weight_{k}", f"{v:.6g}") for k, v in proposal.weights_dict().items()]
    pairs += [("method", proposal.method), ("easy_min", proposal.easy_min), ("hard_max", proposal.hard_max)]
    pairs += [("origins", o) for o in proposal.origins]
    if proposal.use_human:
        pairs.append(("use_human", "1"))
    return urlencode(pairs)


@require_POST
@role_required("admin")
def calibration_activate(request, calibration_id: int):
    try:
        run = cal_services.calibration_version_activate(user=request.user, calibration_id=calibration_id)
    except cal_services.CalibrationVersionError as exc:
        raise Http404(str(exc)) from None
    messages.success(request, f"Activating calibration #{calibration_id}: re-bucketing every scored problem (job #{run.pk}).")
    return redirect("curation:stage_run_detail", run_id=run.pk)


@require_GET
@role_required("viewer")
def calibration_diff(request):
    try:
        a = wsel.calibration_get(int(request.GET.get("a", "")))
        b = wsel.calibration_get(int(request.GET.get("b", "")))
    except (ValueError, Calibration.DoesNotExist):
        raise Http404("choose two calibration versions (a and b)") from None
    context = {"diff": cal_services.calibration_version_diff(a, b)}
    if _htmx_target(request) == "wb-diff":
        return _vary(partial_render(request, "curation/calibration/diff.html", "diff", context))
    return _vary(render(request, "curation/calibration/diff.html", context))


# --- selection -----------------------------------------------------------------------------


def _selection_context(request, params: dict, error: wb.WorkbenchError | None) -> dict:
    preview = None if error else sel_services.selection_preview(params)
    return {
        "params": params, "error": error, "preview": preview,
        "chart": {"by_bucket": preview["by_bucket"], "by_source": preview["by_source"]} if preview else None,
        "can_apply": user_has_role(request.user, "curator"),
    }


@require_GET
@role_required("viewer")
def selection_page(request):
    params = {k: request.GET.get(k) for k in sel_services.POLICY_KEYS if request.GET.get(k) not in (None, "")}
    params.setdefault("policy", "target_easy_share")
    params.setdefault("target_easy_share", "0.2")
    params.setdefault("max_pass_rate", "0.8")
    params.setdefault("keep_fraction", "0.7")
    error = None
    try:
        sel_services.policy_params(params)
    except wb.WorkbenchError as exc:
        error = exc
    context = _selection_context(request, params, error)
    if _htmx_target(request) == "sel-preview":
        return _vary(partial_render(request, SEL_TEMPLATE, "preview", context))
    context.update({"versions": wsel.selection_versions(), "active": wsel.calibration_active()})
    return _vary(render(request, SEL_TEMPLATE, context, status=400 if error else 200))


@require_POST
@role_required("curator")
def selection_apply(request):
    try:
        run = sel_services.selection_apply_start(user=request.user, params=request.POST, name=request.POST.get("name", ""))
    except wb.WorkbenchError as exc:
        messages.error(request, f"Not applied: {exc}")
        return redirect("curation:selection")
    messages.success(request, f"Applying the selection as job #{run.pk}.")
    return redirect("curation:stage_run_detail", run_id=run.pk)


@require_POST
@role_required("curator")
def selection_snapshot(request, selection_id: int):
    from curation.services.snapshots import SnapshotCriteriaError

    if not Selection.objects.filter(pk=selection_id).exists():
        raise Http404("no such selection")
    try:
        snap = sel_services.selection_snapshot(user=request.user, selection_id=selection_id, name=request.POST.get("name", ""))
    except SnapshotCriteriaError as exc:
        messages.error(request, f"No snapshot: {exc}")
    else:
        messages.success(request, f"Snapshot {snap.name} v{snap.version} made: {snap.problem_count} problems.")
    return redirect("curation:selection")
