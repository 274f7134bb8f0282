"""Celery tasks of evaluations. Thin: take an id, call the service (which keeps the row)."""
from celery import shared_task

from . import services


@shared_task(name="evaluations.eval_run", acks_late=True)
def eval_run_task(run_id: int) -> None:
    services.eval_run_execute(run_id)
