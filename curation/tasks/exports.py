"""Celery tasks: exports (queue `default`). Thin: the service does the work and keeps the row."""
from celery import shared_task

from curation.services import exports


@shared_task(name="curation.tasks.exports.export_run_task", acks_late=True)
def export_run_task(export_id: int) -> None:
    exports.export_execute(export_id)
