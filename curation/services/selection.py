"""Select stage: bucket by calibrated pass rate and keep problems by a policy (preview, apply);
and `selection_record`, the one place a Selection row is created."""
from __future__ import annotations

import math

from django.db import transaction

from curation.difficulty import selection as selection_core
from curation.models import Calibration, Problem, Selection, StageRun
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures, run_progress, run_start




# --- selection --------------------------------------------------------------------------


def selection_policy(params: dict):
    if params.get("policy", "target_easy_share") == "cutoff":
        return selection_core.CutoffPolicy(max_pass_rate=float(params.get("max_pass_rate", 0.8)))
    return selection_core.TargetEasySharePolicy(target_easy_share=float(params.get("target_easy_share", 0.2)))


def _selection_item(pk, rate, source, platform, score) -> selection_core.SelectionItem:
    for name, value in (("calibrated_pass_rate", rate), ("weighted_score", score)):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{name} is {value}")
    if rate is not None and not 0 <= rate <= 1:
        raise ValueError(f"calibrated_pass_rate {rate} is outside [0, 1]")
    return selection_core.SelectionItem(id=str(pk), pass_rate=rate, source=source, platform=platform, weighted_score=score)


def _selection_items(problem_ids: list[int] | None, failures: ProblemFailures | None = None) -> list[selection_core.SelectionItem]:
    """The candidates; a problem whose numbers cannot be bucketed is left out (and recorded when
    `failures` is given) instead of failing the selection."""
    qs = Problem.objects.filter(is_duplicate=False, is_contaminated=False, is_benchmark=False)
    if problem_ids is not None:
        qs = qs.filter(pk__in=problem_ids)
    items = []
    for row in qs.order_by("pk").values_list("pk", "calibrated_pass_rate", "source__name", "platform", "weighted_score"):
        try:
            items.append(_selection_item(*row))
        except ValueError as exc:
            if failures is not None:
                failures.record(row[0], exc)
    return items


def _thresholds() -> selection_core.BucketThresholds:
    row = Calibration.objects.filter(is_active=True).first()
    return selection_core.BucketThresholds(**row.bucket_bounds) if row and row.bucket_bounds else selection_core.BucketThresholds()


def selection_preview(params: dict, problem_ids: list[int] | None = None) -> dict:
    """What a policy keeps, by bucket, source and platform — nothing is stored."""
    return selection_core.preview(_selection_items(problem_ids), selection_policy(params), _thresholds())


def selection_apply(*, name: str, params: dict, problem_ids: list[int] | None = None, user=None,
                    failures: ProblemFailures | None = None) -> Selection:
    items = _selection_items(problem_ids, failures)
    result = selection_core.select(items, selection_policy(params), _thresholds())
    return selection_record(
        name=name, user=user, policy=params, preview=result.summary(), problem_ids=[int(i) for i in result.kept_ids],
        calibration=Calibration.objects.filter(is_active=True).first(),
        audit_action="selection_apply", audit_after={"kept": len(result.kept_ids), "policy": params},
    )


def selection_record(*, name: str, user, policy: dict, preview: dict, problem_ids, calibration=None,
                     audit_action: str = "selection_create", audit_after: dict | None = None) -> Selection:
    """The one place a Selection row is made (by a policy, by hand, by a bulk action): the row,
    its problems and its audit row, in one transaction (the caller's, when it has one)."""
    problem_ids = list(problem_ids)
    with transaction.atomic():
        row = Selection.objects.create(
            name=name, calibration=calibration, policy=policy, preview=preview,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        if problem_ids:
            row.problems.add(*problem_ids)
        audit_event_record(actor=user, action=audit_action, target=row,
                           after=audit_after if audit_after is not None else {"name": name, "count": len(problem_ids)})
    return row


def select_execute(run: StageRun) -> None:
    run_start(run, total=1)
    run.counts = {"failed": 0}
    failures = ProblemFailures(run, "select")
    row = selection_apply(name=run.params.get("name") or f"selection-{run.pk}", params=run.params,
                          problem_ids=run.params.get("problem_ids"), failures=failures)
    run.counts.update({"selection": row.pk, "summary": row.preview})
    run.save(update_fields=["counts", "errors"])
    run_progress(run, done=1)
