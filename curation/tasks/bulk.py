"""Celery tasks: bulk actions on the problems a filter matched (see curation.services.bulk)."""
from celery import shared_task

from curation.services import bulk


@shared_task(name="curation.tasks.bulk.bulk_action_task", acks_late=True)
def bulk_action_task(run_id: int) -> None:
    bulk.bulk_action_execute(run_id)
