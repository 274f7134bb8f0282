"""Snapshots made in the background: freezing 100k problems takes minutes, past any web request.

`snapshot_job_start` is the user action (one transaction: a StageRun with stage "snapshot" and an
AuditEvent; the task is dispatched after commit). `snapshot_job_execute` (the Celery task lands
here) calls `snapshot_create`, which writes the snapshot and its items in ONE transaction so
nothing half-written is ever visible. Progress made inside that transaction cannot be seen through
the database by other connections, so it is reported through the cache (Redis where configured)
and the job page reads it from there while the run is running; the row gets the final count.
"""
from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.http import QueryDict

from curation.models import DatasetSnapshot, RunStatus, Selection, StageRun
from curation.selectors import filter_query_string
from curation.services.audit import audit_event_record
from curation.services.runs import run_finish, run_start
from curation.services.snapshots import SnapshotCriteriaError, snapshot_create, snapshot_problem_ids

logger = logging.getLogger(__name__)
PROGRESS_TTL = 6 * 3600


def progress_key(run_id: int) -> str:
    return f"curation:snapshot-job:{run_id}:done"


def query_filters(query: str) -> dict:
    """A list query string as snapshot filters (ProblemFilter parameters); paging/sort dropped."""
    data = QueryDict(filter_query_string(QueryDict((query or "").lstrip("?"))))
    filters: dict = {}
    for key, values in data.lists():
        if key in ("page", "ordering"):
            continue
        filters[key] = values if len(values) > 1 else values[0]
    return filters


def snapshot_job_start(*, user, name: str, query: str = "", selection_id: int | None = None) -> StageRun:
    """Validate the criteria now (a bad one names its field), then queue the freezing."""
    name = (name or "").strip()
    if not name:
        raise SnapshotCriteriaError("name", "required")
    if len(name) > 200:
        raise SnapshotCriteriaError("name", "at most 200 characters")
    selection = None
    if selection_id:
        selection = Selection.objects.filter(pk=selection_id).first()
        if selection is None:
            raise SnapshotCriteriaError("selection", "no such selection")
    filters = query_filters(query)
    count = len(snapshot_problem_ids(selection=selection, filters=filters or None))
    with transaction.atomic():
        run = StageRun.objects.create(
            stage="snapshot",
            step="create",
            params={"name": name, "filters": filters, "selection_id": selection.pk if selection else None},
            total=count,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit_event_record(actor=user, action="snapshot_job_start", target=run, after={"name": name, "filters": filters, "count": count})
        from curation.tasks.snapshots import snapshot_job_task

        transaction.on_commit(lambda: snapshot_job_task.delay(run.pk))
    return run


def snapshot_job_progress(run: StageRun) -> int:
    """How far a running job has got (the cache), else the row's count."""
    if run.status == RunStatus.RUNNING:
        done = cache.get(progress_key(run.pk))
        if done is not None:
            return int(done)
    return run.done


def snapshot_job_execute(run_id: int) -> StageRun:
    """Idempotent: a finished run is left alone; a redelivered one makes its snapshot once."""
    run = StageRun.objects.select_related("created_by").get(pk=run_id)
    if run.is_finished:
        return run
    done_snapshot = run.counts.get("snapshot") if run.counts else None
    if done_snapshot and DatasetSnapshot.objects.filter(pk=done_snapshot).exists():
        run_finish(run)
        return run
    params = run.params
    run_start(run, total=run.total)
    selection = Selection.objects.filter(pk=params.get("selection_id")).first() if params.get("selection_id") else None

    def report(done: int, total: int) -> None:
        cache.set(progress_key(run.pk), done, PROGRESS_TTL)

    try:
        snapshot = snapshot_create(
            name=params["name"], user=run.created_by, selection=selection, filters=params.get("filters") or None, progress=report,
        )
    except Exception as exc:  # noqa: BLE001 — the row must say what went wrong
        logger.exception("snapshot run %s failed", run.pk)
        field = getattr(exc, "field", "")
        run.errors = [{"record": params.get("name", ""), "field": field, "message": f"{type(exc).__name__}: {exc}"}]
        run_finish(run, failed=True, message=str(exc))
        return run
    finally:
        cache.delete(progress_key(run.pk))
    run.done = snapshot.problem_count
    run.total = snapshot.problem_count
    run.counts = {"snapshot": snapshot.pk, "version": snapshot.version, "problems": snapshot.problem_count}
    run_finish(run, message=f"Snapshot “{snapshot.name}” v{snapshot.version}: {snapshot.problem_count} problems")
    return run
