from celery import shared_task

from curation.services import imports


@shared_task(name="curation.tasks.imports.import_problems_task", acks_late=True)
def import_problems_task(run_id: int) -> None:
    imports.import_run_execute(run_id)
