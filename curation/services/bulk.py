"""Bulk actions on everything a filter matches, or on rows picked from it: accept, reject,
re-verify, re-predict, add to a selection — and undo of accept, reject and add-to-selection.

Governance: accept and reject skip double review and adjudication, so they need
settings.BULK_REVIEW_ROLE (adjudicator by default). Problems that already carry a review or a
review state other than the target are *conflicts*: listed on the confirm step and left alone
unless the user includes them explicitly. Every changed problem gets an audit row holding its
state before, which is what the undo job restores (only where nobody changed it since).

Starting one is a user action (one transaction: a StageRun with stage "bulk" and an AuditEvent);
the work runs in `curation.tasks.bulk.bulk_action_task`, in batches, reporting progress on the row.
The filter is stored as its query string and resolved to ids when the job runs.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone

from curation.errors import DomainError
from curation.models import AuditEvent, Problem, Review, ReviewLease, ReviewStatus, RunStatus, Selection, StageRun
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
REVIEW_ACTIONS = {"accept": ReviewStatus.ACCEPTED, "reject": ReviewStatus.REJECTED}
# Re-verify and re-predict start ordinary stage runs that add results; there is no earlier human
# decision for an undo to bring back.
UNDOABLE = ("accept", "reject", "add_to_selection")
CHILD_STAGE = {"reverify": "verify", "repredict": "predict"}
BATCH = 1000
MAX_PICKED = 10_000
CONFLICTS_SHOWN = 50


class BulkActionError(DomainError):
    """The request is wrong (bad filter, unknown action, missing role): nothing was started."""


def action_role(action: str) -> str:
    """The role an action needs; read at call time so the setting can change without a restart."""
    return settings.BULK_REVIEW_ROLE if action in REVIEW_ACTIONS else "curator"


def bulk_actions_for_user(user) -> dict[str, str]:
    """The actions this user may start: the list page offers only these."""
    return {key: title for key, title in BULK_ACTIONS.items() if user_has_role(user, action_role(key))}


def _filterset(query: str):
    fs = problem_filter(QueryDict(query.lstrip("?")))
    if not fs.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in fs.errors.items())
        raise BulkActionError(f"the filter is not valid ({problems}); fix it before acting on it")
    return fs


def _clean_ids(ids) -> list[int]:
    try:
        cleaned = sorted({int(i) for i in (ids or [])})
    except (TypeError, ValueError):
        raise BulkActionError("the picked rows are not problem ids") from None
    if len(cleaned) > MAX_PICKED:
        raise BulkActionError(f"at most {MAX_PICKED} picked rows; use “all matching” for more")
    return cleaned


def _scope(query: str, ids=None):
    """The problems an action acts on: the filter's matches, narrowed to the picked rows if any."""
    qs = _filterset(query).qs
    ids = _clean_ids(ids)
    if ids:
        qs = qs.filter(pk__in=ids)
    return qs


def _conflict_q(action: str) -> Q:
    """A problem someone already reviewed, or whose review state differs from the one the action
    would set, is a conflict: bulk action must not silently override a person's decision."""
    target = REVIEW_ACTIONS[action]
    has_review = Exists(Review.objects.filter(problem=OuterRef("pk")))
    return (has_review | ~Q(review_status=ReviewStatus.UNREVIEWED)) & ~Q(review_status=target)


def bulk_action_count(*, query: str, ids=None) -> int:
    """How many problems the action would touch: an exact count, shown on the confirm step."""
    return problem_count_exact(_scope(query, ids))


def bulk_conflicts(*, action: str, query: str, ids=None, limit: int = CONFLICTS_SHOWN) -> tuple[int, list[dict]]:
    """(how many conflicts, the first `limit` of them with their state and reviews) — for accept and
    reject only; other actions have none."""
    if action not in REVIEW_ACTIONS:
        return 0, []
    qs = _scope(query, ids).filter(_conflict_q(action)).order_by("id")
    count = qs.count()
    rows = []
    for p in qs.only("id", "title", "review_status")[:limit]:
        reviews = list(Review.objects.filter(problem=p).select_related("reviewer").order_by("created_at"))
        rows.append({
            "problem": p,
            "status": p.get_review_status_display(),
            "reviews": [f"{r.reviewer.username}: {r.decision}{' (adjudication)' if r.is_adjudication else ''}" for r in reviews],
        })
    return count, rows


def bulk_action_validate(
    *, user, action: str, query: str, reason: str = "", selection_id: int | None = None, selection_name: str = "", ids=None,
) -> None:
    if action not in BULK_ACTIONS:
        raise BulkActionError(f"unknown bulk action '{action}'")
    role = action_role(action)
    if not user_has_role(user, role):
        raise BulkActionError(f"{BULK_ACTIONS[action].lower()} in bulk needs the {role} role")
    _scope(query, ids)
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
    *, user, action: str, query: str, reason: str = "", selection_id: int | None = None, selection_name: str = "",
    ids=None, include_conflicts: bool = False,
) -> StageRun:
    """Validate, then create the job row and its audit row; the task is dispatched after commit."""
    bulk_action_validate(
        user=user, action=action, query=query, reason=reason, selection_id=selection_id, selection_name=selection_name, ids=ids
    )
    query = filter_query_string(QueryDict(query.lstrip("?")))
    ids = _clean_ids(ids)
    with transaction.atomic():
        if action == "add_to_selection" and not selection_id:
            name = selection_name.strip()[:200]
            selection = selection_record(name=name, user=user, policy={"manual": True}, preview={}, problem_ids=[],
                                         audit_after={"name": name})
            selection_id = selection.pk
        count = bulk_action_count(query=query, ids=ids)
        conflicts, _rows = bulk_conflicts(action=action, query=query, ids=ids, limit=0)
        run = StageRun.objects.create(
            stage="bulk",
            step=action,
            params={
                "action": action, "query": query, "reason": (reason or "").strip(), "selection_id": selection_id,
                "ids": ids, "include_conflicts": bool(include_conflicts),
            },
            total=count if include_conflicts else count - conflicts,
            created_by=user,
        )
        audit_event_record(
            actor=user,
            action=f"bulk_{action}_start",
            target=run,
            after={
                "query": query, "count": count, "selection_id": selection_id, "picked": len(ids),
                "conflicts": conflicts, "include_conflicts": bool(include_conflicts),
            },
        )
        from curation.tasks.bulk import bulk_action_task

        transaction.on_commit(lambda: bulk_action_task.delay(run.pk))
    return run


def _problem_ids(run: StageRun) -> tuple[list[int], int]:
    """(ids to act on, conflicts left out). Conflicts are recomputed when the job runs: a review
    given between the confirm step and now is still respected."""
    params = run.params
    qs = _scope(params.get("query", ""), params.get("ids"))
    skipped = 0
    if params.get("action") in REVIEW_ACTIONS and not params.get("include_conflicts"):
        skipped = qs.filter(_conflict_q(params["action"])).count()
        qs = qs.exclude(_conflict_q(params["action"]))
    return list(qs.order_by("id").values_list("id", flat=True).distinct()), skipped


def _set_review_status(run: StageRun, ids: list[int], status: str, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        # Locked so the before-state the undo restores is exactly what was replaced.
        before = list(Problem.objects.select_for_update().filter(pk__in=ids).values_list("id", "review_status", "version"))
        Problem.objects.filter(pk__in=ids).update(review_status=status, version=F("version") + 1, updated_at=now)
        ReviewLease.objects.filter(problem_id__in=ids).delete()
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor=run.created_by,
                    action=f"bulk_{run.params['action']}",
                    target_type="Problem",
                    target_id=str(pid),
                    before={"review_status": old_status, "version": version},
                    after={"review_status": status, "version": version + 1, "reason": reason, "bulk_run": run.pk},
                    created_at=now,
                )
                for pid, old_status, version in before
            ],
            batch_size=BATCH,
        )


def _add_to_selection(run: StageRun, ids: list[int], selection_id: int) -> None:
    through = Selection.problems.through
    now = timezone.now()
    with transaction.atomic():
        present = set(through.objects.filter(selection_id=selection_id, problem_id__in=ids).values_list("problem_id", flat=True))
        added = [pid for pid in ids if pid not in present]
        through.objects.bulk_create(
            [through(selection_id=selection_id, problem_id=pid) for pid in added], batch_size=BATCH, ignore_conflicts=True
        )
        # Only the problems this job added are recorded, so undo never removes earlier members.
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor=run.created_by, action="bulk_add_to_selection", target_type="Problem", target_id=str(pid),
                    after={"selection_id": selection_id, "bulk_run": run.pk}, created_at=now,
                )
                for pid in added
            ],
            batch_size=BATCH,
        )


# --- Undo ----------------------------------------------------------------------------------


def bulk_undo_blocker(run: StageRun) -> str:
    """Why this bulk run cannot be undone ('' when it can); the job page shows it."""
    if run.stage != "bulk" or run.step not in UNDOABLE:
        return "only accept, reject and add-to-selection runs can be undone"
    if run.status not in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
        return "the run has not finished"
    if StageRun.objects.filter(stage="bulk", step="undo", params__undo_of=run.pk).exclude(status=RunStatus.FAILED).exists():
        return "it has already been undone"
    return ""


def bulk_undo_start(*, user, run_id: int) -> StageRun:
    """Start the job that reverses a finished bulk run (one job, one audit row)."""
    with transaction.atomic():
        try:
            original = StageRun.objects.select_for_update().get(pk=run_id, stage="bulk")
        except StageRun.DoesNotExist:
            raise BulkActionError("no such bulk run") from None
        role = action_role(original.step)
        if not user_has_role(user, role):
            raise BulkActionError(f"undoing {BULK_ACTIONS.get(original.step, original.step).lower()} needs the {role} role")
        blocker = bulk_undo_blocker(original)
        if blocker:
            raise BulkActionError(f"bulk run #{original.pk} cannot be undone: {blocker}")
        run = StageRun.objects.create(
            stage="bulk", step="undo", params={"action": "undo", "undo_of": original.pk}, total=original.done, created_by=user
        )
        audit_event_record(actor=user, action="bulk_undo_start", target=run, after={"undo_of": original.pk})
        from curation.tasks.bulk import bulk_action_task

        transaction.on_commit(lambda: bulk_action_task.delay(run.pk))
    return run


def _undo_events(original: StageRun):
    action = f"bulk_{original.step}"
    return (
        AuditEvent.objects.filter(action=action, target_type="Problem", after__bulk_run=original.pk)
        .order_by("id")
        .values_list("target_id", "before", "after")
    )


def _undo_review_batch(run: StageRun, events: list[tuple]) -> tuple[int, list[dict]]:
    """Restore each problem's earlier review state where it is still what the bulk run left."""
    now = timezone.now()
    restored, errors = 0, []
    with transaction.atomic():
        ids = [int(t) for t, _b, _a in events]
        current = dict(Problem.objects.select_for_update().filter(pk__in=ids).values_list("id", "version"))
        by_status: dict[str, list[int]] = {}
        audit = []
        for target_id, before, after in events:
            pid = int(target_id)
            if pid not in current:
                continue  # deleted since: nothing to restore
            if current[pid] != after.get("version"):
                errors.append({
                    "record": f"problem {pid}", "field": "review_status",
                    "message": f"changed since the bulk run (version {after.get('version')} → {current[pid]}); left as it is",
                })
                continue
            by_status.setdefault(before["review_status"], []).append(pid)
            audit.append(AuditEvent(
                actor=run.created_by, action="bulk_undo", target_type="Problem", target_id=str(pid),
                before={"review_status": after.get("review_status"), "version": current[pid]},
                after={"review_status": before["review_status"], "version": current[pid] + 1, "bulk_run": run.pk},
                created_at=now,
            ))
        for status, pids in by_status.items():
            Problem.objects.filter(pk__in=pids).update(review_status=status, version=F("version") + 1, updated_at=now)
            restored += len(pids)
        AuditEvent.objects.bulk_create(audit, batch_size=BATCH)
    return restored, errors


def _undo_selection_batch(run: StageRun, events: list[tuple]) -> int:
    through = Selection.problems.through
    with transaction.atomic():
        removed = 0
        for target_id, _before, after in events:
            removed += through.objects.filter(selection_id=after["selection_id"], problem_id=int(target_id)).delete()[0]
    return removed


def _undo_execute(run: StageRun) -> None:
    original = StageRun.objects.get(pk=run.params["undo_of"])
    events = list(_undo_events(original))
    run_start(run, total=len(events))
    done = changed = 0
    for start in range(0, len(events), BATCH):
        batch = events[start : start + BATCH]
        if original.step in REVIEW_ACTIONS:
            restored, errors = _undo_review_batch(run, batch)
            run.errors = list(run.errors) + errors
            changed += restored
        else:
            changed += _undo_selection_batch(run, batch)
        done += len(batch)
        run_progress(run, done=done)
    run.counts = {"undone": changed, "left_as_is": done - changed, "undo_of": original.pk}
    StageRun.objects.filter(pk=run.pk).update(counts=run.counts, errors=run.errors)
    run.message = f"Undo of bulk run #{original.pk}: {changed} of {done} problems restored"


def bulk_action_execute(run_id: int) -> StageRun:
    """Run the job (the Celery task lands here). Idempotent: rerunning applies the same state."""
    run = StageRun.objects.select_related("created_by").get(pk=run_id)
    if run.is_finished:
        return run
    action = run.params.get("action")
    try:
        if action == "undo":
            _undo_execute(run)
            run_finish(run)
            return run
        ids, skipped = _problem_ids(run)
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
            run.counts = {"problems": done, "skipped_conflicts": skipped}
            StageRun.objects.filter(pk=run.pk).update(counts=run.counts)
            run.message = f"{BULK_ACTIONS.get(action, action)}: {done} problems" + (
                f"; {skipped} with existing reviews left alone" if skipped else ""
            )
    except Exception as exc:  # noqa: BLE001 — the row must say what went wrong
        logger.exception("bulk run %s failed", run.pk)
        run.errors = list(run.errors) + [{"record": "", "field": "", "message": f"{type(exc).__name__}: {exc}"}]
        run_finish(run, failed=True, message=str(exc))
        return run
    run_finish(run)
    return run
