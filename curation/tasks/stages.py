from celery import shared_task

from curation.services import stages


@shared_task(acks_late=True)
def stage_run_task(run_id: int) -> None:
    # The queue is chosen at dispatch time from the stage's registration (llm, sandbox, default).
    stages.stage_run_execute(run_id)
