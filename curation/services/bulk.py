"""Bulk actions on everything a filter matches (not just the page): accept, reject, re-verify,
re-predict, add to a selection.

Starting one is a user action (one transaction: a StageRun with stage "bulk" and an AuditEvent);
the work runs in `curation.tasks.bulk.bulk_action_task`, in batches, reporting progress on the row.
The filter is stored as its query string and resolved to ids when the job runs.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone

from curation.errors import DomainError
from curation.models import AuditEvent, Problem, ReviewLease, ReviewStatus, Selection, StageRun
from curation.roles import user_has_role
from curation.selectors import filter_query_string, problem_count_exact, problem_filter
from curation.services.audit import audit_event_record
from curation.services.selection import selection_record
from curation.services.runs import run_finish, run_progress, run_start

logger = logging.getLogger(__name__)

BULK_ACTIONS = {
    "accept": "Accept",
    "reject": "Reject",
    "reverify": "Re-verify",
    "repredict": "Re-predict",
    "add_to_selection": "Add to selection",
}
ACTION_ROLE = {action: "curator" for action in BULK_ACTIONS}
CHILD_STAGE = {"reverify": "verify", "repredict": "predict"}
BATCH = 1000


class BulkActionError(DomainError):
    """The request is wrong (bad filter, unknown action, missing role): nothing was started."""


def _filterset(query: str):
    fs = problem_filter(QueryDict(query.lstrip("?")))
    if not fs.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in fs.errors.items())
        raise BulkActionError(f"the filter is not valid ({problems}); fix it before acting on it")
    return fs


def bulk_action_count(*, query: str) -> int:
    """How many problems the action would touch: an exact count, shown on the confirm step."""
    return problem_count_exact(_filterset(query).qs)


def bulk_action_validate(*, user, action: str, query: str, reason: str = "", selection_id: int | None = None, selection_name: str = "") -> None:
    if action not in BULK_ACTIONS:
        raise BulkActionError(f"unknown bulk action '{action}'")
    role = ACTION_ROLE[action]
    if not user_has_role(user, role):
        raise BulkActionError(f"{BULK_ACTIONS[action].lower()} needs the {role} role")
    _filterset(query)
    if action == "reject" and not (reason or "").strip():
        raise BulkActionError("a bulk rejection needs a reason")
    if action in CHILD_STAGE:
        from curation.services.stages import available_stages

        stage = CHILD_STAGE[action]
        if stage not in available_stages():
            raise BulkActionError(f"the '{stage}' stage is not available yet, so {BULK_ACTIONS[action].lower()} cannot run")
    if action == "add_to_selection":
        if selection_id:
            if not Selection.objects.filter(pk=selection_id).exists():
                raise BulkActionError("no such selection")
        elif not (selection_name or "").strip():
            raise BulkActionError("choose a selection or name a new one")


def bulk_action_start(
    *, user, action: str, query: str, reason: str = "", selection_id: int | None = None, selection_name: str = ""
) -> StageRun:
    """Validate, then create the job row and its audit row; the task is dispatched after commit."""
    bulk_action_validate(
        user=user, action=action, query=query, reason=reason, selection_id=selection_id, selection_name=selection_name
    )
    query = filter_query_string(QueryDict(query.lstrip("?")))
    with transaction.atomic():
        if action == "add_to_selection" and not selection_id:
            name = selection_name.strip()[:200]
            selection = selection_record(name=name, user=user, policy={"manual": True}, preview={}, problem_ids=[],
                                         audit_after={"name": name})
            selection_id = selection.pk
        count = bulk_action_count(query=query)
        run = StageRun.objects.create(
            stage="bulk",
            step=action,
            params={"action": action, "query": query, "reason": (reason or "").strip(), "selection_id": selection_id},
            total=count,
            created_by=user,
        )
        audit_event_record(
            actor=user, action=f"bulk_{action}_start", target=run, after={"query": query, "count": count, "selection_id": selection_id}
        )
        from curation.tasks.bulk import bulk_action_task

        transaction.on_commit(lambda: bulk_action_task.delay(run.pk))
    return run


def _problem_ids(query: str) -> list[int]:
    return list(_filterset(query).qs.order_by("id").values_list("id", flat=True).distinct())


def _set_review_status(run: StageRun, ids: list[int], status: str, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        Problem.objects.filter(pk__in=ids).update(review_status=status, version=F("version") + 1, updated_at=now)
        ReviewLease.objects.filter(problem_id__in=ids).delete()
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor=run.created_by,
                    action=f"bulk_{run.params['action']}",
                    target_type="Problem",
                    target_id=str(pid),
                    after={"review_status": status, "reason": reason, "bulk_run": run.pk},
                    created_at=now,
                )
                for pid in ids
            ],
            batch_size=BATCH,
        )


def _add_to_selection(run: StageRun, ids: list[int], selection_id: int) -> None:
    through = Selection.problems.through
    with transaction.atomic():
        through.objects.bulk_create(
            [through(selection_id=selection_id, problem_id=pid) for pid in ids], batch_size=BATCH, ignore_conflicts=True
        )


def bulk_action_execute(run_id: int) -> StageRun:
    """Run the job (the Celery task lands here). Idempotent: rerunning applies the same state."""
    run = StageRun.objects.select_related("created_by").get(pk=run_id)
    if run.is_finished:
        return run
    action = run.params.get("action")
    try:
        ids = _problem_ids(run.params.get("query", ""))
        run_start(run, total=len(ids))
        if action in CHILD_STAGE:
            from curation.services.stages import stage_run_start

            child = stage_run_start(stage=CHILD_STAGE[action], user=run.created_by, problem_ids=ids, params={"bulk_run": run.pk})
            run.counts = {"child_run": child.pk, "problems": len(ids)}
            run_progress(run, done=len(ids))
            StageRun.objects.filter(pk=run.pk).update(counts=run.counts)
            run.message = f"started {CHILD_STAGE[action]} run #{child.pk} for {len(ids)} problems"
        else:
            done = 0
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                if action == "accept":
                    _set_review_status(run, batch, ReviewStatus.ACCEPTED, "")
                elif action == "reject":
                    _set_review_status(run, batch, ReviewStatus.REJECTED, run.params.get("reason", ""))
                elif action == "add_to_selection":
                    _add_to_selection(run, batch, run.params["selection_id"])
                else:
                    raise BulkActionError(f"unknown bulk action '{action}'")
                done += len(batch)
                run_progress(run, done=done)
            run.counts = {"problems": done}
            StageRun.objects.filter(pk=run.pk).update(counts=run.counts)
            run.message = f"{BULK_ACTIONS.get(action, action)}: {done} problems"
    except Exception as exc:  # noqa: BLE001 — the row must say what went wrong
        logger.exception("bulk run %s failed", run.pk)
        run.errors = list(run.errors) + [{"record": "", "field": "", "message": f"{type(exc).__name__}: {exc}"}]
        run_finish(run, failed=True, message=str(exc))
        return run
    run_finish(run)
    return run
