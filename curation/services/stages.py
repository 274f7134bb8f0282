"""Starting and running pipeline stages (process, verify, predict, measure, calibrate, select,
bulk actions) as StageRun rows. Commands, the workspace and the API all start stages here.

Each stage registers an executor: `executor(run: StageRun) -> None`, which does the work in
batches and reports progress with `run_progress`. The Celery task only looks the executor up.
"""
from __future__ import annotations

import logging
from typing import Callable

from django.db import transaction

from curation.models import StageRun
from curation.services.audit import audit_event_record
from curation.services.runs import run_finish

logger = logging.getLogger(__name__)

Executor = Callable[[StageRun], None]
_EXECUTORS: dict[str, tuple[Executor, str]] = {}


class UnknownStageError(ValueError):
    pass


def stage_executor(stage: str, *, queue: str = "default"):
    """Decorator registering the function that runs a stage, and the Celery queue it runs on."""

    def decorator(fn: Executor) -> Executor:
        _EXECUTORS[stage] = (fn, queue)
        return fn

    return decorator


def _load_executors() -> None:
    # The stage modules register themselves on import.
    from curation.services import processing, verification, difficulty  # noqa: F401
    from curation.services import calibration_versions, selection_versions  # noqa: F401


def available_stages() -> list[str]:
    _load_executors()
    return sorted(_EXECUTORS)


def stage_run_create(*, stage: str, user=None, problem_ids: list[int] | None = None, params: dict | None = None, step: str = "") -> StageRun:
    """One transaction: the run row and its audit row; the task is dispatched after commit."""
    _load_executors()
    if stage not in _EXECUTORS:
        raise UnknownStageError(f"unknown stage '{stage}'; known stages: {', '.join(sorted(_EXECUTORS))}")
    params = dict(params or {})
    if problem_ids is not None:
        params["problem_ids"] = list(problem_ids)
    with transaction.atomic():
        run = StageRun.objects.create(stage=stage, step=step, params=params, created_by=user)
        audit_event_record(actor=user, action=f"stage_{stage}_start", target=run, after={"step": step, "params": {k: v for k, v in params.items() if k != "problem_ids"}, "problems": len(problem_ids or [])})
    return run


def stage_run_enqueue(run: StageRun) -> None:
    from curation.tasks.stages import stage_run_task

    _fn, queue = _EXECUTORS[run.stage]
    transaction.on_commit(lambda: stage_run_task.apply_async(args=[run.pk], queue=queue))


def stage_run_start(*, stage: str, user=None, problem_ids: list[int] | None = None, params: dict | None = None, step: str = "") -> StageRun:
    with transaction.atomic():
        run = stage_run_create(stage=stage, user=user, problem_ids=problem_ids, params=params, step=step)
        stage_run_enqueue(run)
    return run


def stage_run_execute(run_id: int) -> StageRun:
    """Run a stage inline (the task and `--sync` both land here). Finished runs are left alone."""
    _load_executors()
    run = StageRun.objects.get(pk=run_id)
    if run.is_finished:
        return run
    fn, _queue = _EXECUTORS[run.stage]
    try:
        fn(run)
    except Exception as exc:  # noqa: BLE001 — the row must say what went wrong
        logger.exception("stage run %s (%s) failed", run.pk, run.stage)
        run.refresh_from_db()
        run.errors = list(run.errors) + [{"record": "", "field": "", "message": f"{type(exc).__name__}: {exc}"}]
        run_finish(run, failed=True, message=str(exc))
        return run
    run.refresh_from_db()
    if not run.is_finished:
        run_finish(run)
    return run
