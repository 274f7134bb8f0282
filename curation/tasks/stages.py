"""Celery tasks: one per pipeline stage, named `curation.stage.<stage>` by the stage map, which
also routes each to its queue (`curation.pipeline.route_task`). Thin: run the StageRun row."""
from celery import shared_task

from curation import pipeline
from curation.services import stages


def _stage_task(stage: pipeline.Stage):
    @shared_task(name=stage.task, acks_late=True)
    def run_stage(run_id: int) -> None:
        stages.stage_run_execute(run_id)

    run_stage.__doc__ = f"Run a {stage.name} StageRun (queue {stage.queue})."
    return run_stage


STAGE_TASKS = {s.name: _stage_task(s) for s in pipeline.STAGES if s.kind == pipeline.STAGE_RUN}
