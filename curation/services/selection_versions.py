"""Versioned selections from the selection page: preview a policy (nothing stored), apply it as a
job (a new Selection version that becomes the current one, one audit event), freeze a version as
a snapshot. Buckets come from the active calibration's bounds and calibrated pass rates."""
from __future__ import annotations

from typing import Any, Mapping

from django.db import transaction
from django.db.models import Max

from curation import workbench_selectors as wsel
from curation.difficulty import selection as selection_core
from curation.difficulty import workbench as wb
from curation.models import Selection, StageRun
from curation.services.audit import audit_event_record
from curation.services.runs import run_progress, run_start
from curation.services.stages import stage_run_start

POLICY_KEYS = ("policy", "target_easy_share", "max_pass_rate", "keep_fraction", "keep_unscored")
CHANGE_LIST_LIMIT = 25
ADD_BATCH = 5000


def _thresholds() -> selection_core.BucketThresholds:
    row = wsel.calibration_active()
    return selection_core.BucketThresholds(**row.bucket_bounds) if row and row.bucket_bounds else selection_core.BucketThresholds()


def policy_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The policy's own parameters, validated (errors name the field)."""
    params = {k: raw.get(k) for k in POLICY_KEYS if raw.get(k) not in (None, "")}
    params.setdefault("policy", "target_easy_share")
    wb.policy_from(params)
    return params


def _decide(params: Mapping[str, Any]) -> selection_core.SelectionResult:
    return wb.select_any(wsel.selection_items(), wb.policy_from(params), _thresholds())


def selection_preview(params: Mapping[str, Any]) -> dict[str, Any]:
    """What the policy keeps — overall, by bucket and source, before and after — and which
    problems enter and leave compared with the current selection."""
    result = _decide(params)
    summary = result.summary()
    current = wsel.selection_current()
    kept = {int(i) for i in result.kept_ids}
    if current is not None:
        before = set(current.problems.values_list("id", flat=True))
        entering, leaving = sorted(kept - before), sorted(before - kept)
    else:
        entering, leaving = sorted(kept), []
    titles = wsel.problem_titles(entering[:CHANGE_LIST_LIMIT] + leaving[:CHANGE_LIST_LIMIT])
    return {
        "policy": policy_params(params),
        "total": summary["total"], "kept": summary["kept"], "dropped": summary["dropped"],
        "kept_fraction": summary["kept_fraction"],
        "easy_share_before": summary["easy_share_before"], "easy_share_after": summary["easy_share_after"],
        "by_bucket": _bucket_order(wb.histogram_by(result.decisions, "bucket")),
        "by_source": wb.histogram_by(result.decisions, "source"),
        "thresholds": result.thresholds,
        "current": {"id": current.pk, "name": current.name, "version": current.version} if current else None,
        "entering_count": len(entering), "leaving_count": len(leaving),
        "entering": [{"id": i, "title": titles.get(i, "")} for i in entering[:CHANGE_LIST_LIMIT]],
        "leaving": [{"id": i, "title": titles.get(i, "")} for i in leaving[:CHANGE_LIST_LIMIT]],
    }


def _bucket_order(hist: dict) -> dict:
    return {b: hist[b] for b in selection_core.BUCKETS if b in hist}


def selection_apply_start(*, user, params: Mapping[str, Any], name: str = "") -> StageRun:
    """Validate, then run the selection as a job (100k problems: never inside a request)."""
    clean = policy_params(params)
    name = (name or "").strip()
    if len(name) > 200:
        raise wb.WorkbenchError("name", "at most 200 characters")
    return stage_run_start(stage="selection_apply", user=user, params={**clean, "name": name})


def selection_apply_execute(run: StageRun) -> None:
    params = dict(run.params)
    result = _decide(params)
    kept = [int(i) for i in result.kept_ids]
    run_start(run, total=len(kept))
    with transaction.atomic():
        version = (Selection.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        previous = wsel.selection_current()
        Selection.objects.filter(is_current=True).update(is_current=False)
        row = Selection.objects.create(
            name=params.get("name") or f"selection v{version}", calibration=wsel.calibration_active(),
            policy=policy_params(params), preview=result.summary(), created_by=run.created_by,
            version=version, is_current=True, stage_run=run,
        )
        through = Selection.problems.through
        for start in range(0, len(kept), ADD_BATCH):
            through.objects.bulk_create([through(selection_id=row.pk, problem_id=pid) for pid in kept[start:start + ADD_BATCH]])
            run_progress(run, done=min(len(kept), start + ADD_BATCH))
        audit_event_record(actor=run.created_by, action="selection_version_apply", target=row,
                           before={"current": previous.pk if previous else None},
                           after={"version": version, "kept": len(kept), "policy": row.policy})
    run.counts = {"selection": row.pk, "version": version, "kept": len(kept), "total": len(result.decisions)}
    run.save(update_fields=["counts"])
    run_progress(run, done=len(kept))


def selection_snapshot(*, user, selection_id: int, name: str = ""):
    """Freeze a selection version as an immutable snapshot (the snapshot service does the work)."""
    from curation.services.snapshots import snapshot_create

    selection = Selection.objects.get(pk=selection_id)
    return snapshot_create(name=name or selection.name, user=user, selection=selection)
