"""Starting and running pipeline stages (process, verify, predict, measure, calibrate, select)
as StageRun rows. Commands, the workspace, bulk actions and the API all start stages here.

Which function runs a stage, on which queue, is the stage map's (`curation.pipeline`): the
executor `fn(run: StageRun) -> None` does the work in batches and reports progress with
`run_progress`; the stage's own Celery task only calls `stage_run_execute`.
"""
from __future__ import annotations

import logging

from django.db import transaction

from curation import pipeline
from curation.models import StageRun
from curation.pipeline import UnknownStageError  # noqa: F401 - callers catch it from here
from curation.services.audit import audit_event_record
from curation.services.runs import run_finish

logger = logging.getLogger(__name__)


def available_stages() -> list[str]:
    return pipeline.stage_run_names()


def stage_run_create(*, stage: str, user=None, problem_ids: list[int] | None = None, params: dict | None = None, step: str = "") -> StageRun:
    """One transaction: the run row and its audit row; the task is dispatched after commit."""
    if stage not in available_stages():
        pipeline.stage_get(stage)  # names the known stages
        raise UnknownStageError(f"the {stage} stage is not started as a stage run; use `{pipeline.stage_get(stage).command}`")
    params = dict(params or {})
    if problem_ids is not None:
        params["problem_ids"] = list(problem_ids)
    with transaction.atomic():
        run = StageRun.objects.create(stage=stage, step=step, params=params, created_by=user)
        audit_event_record(actor=user, action=f"stage_{stage}_start", target=run, after={"step": step, "params": {k: v for k, v in params.items() if k != "problem_ids"}, "problems": len(problem_ids or [])})
    return run


def stage_run_enqueue(run: StageRun) -> None:
    from curation.tasks.stages import STAGE_TASKS

    task = STAGE_TASKS[run.stage]  # routed to the stage's queue by curation.pipeline.route_task
    transaction.on_commit(lambda: task.delay(run.pk))


def stage_run_start(*, stage: str, user=None, problem_ids: list[int] | None = None, params: dict | None = None, step: str = "") -> StageRun:
    with transaction.atomic():
        run = stage_run_create(stage=stage, user=user, problem_ids=problem_ids, params=params, step=step)
        stage_run_enqueue(run)
    return run


def stage_run_execute(run_id: int) -> StageRun:
    """Run a stage inline (the task and `--sync` both land here). Finished runs are left alone."""
    run = StageRun.objects.get(pk=run_id)
    if run.is_finished:
        return run
    fn = pipeline.stage_get(run.stage).executor()
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
