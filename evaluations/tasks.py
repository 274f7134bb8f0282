"""Celery tasks of evaluations. Thin: take an id, call the service (which keeps the row)."""
from celery import shared_task

from . import services


@shared_task(name="evaluations.eval_run", acks_late=True)
def eval_run_task(run_id: int) -> None:
    services.eval_run_execute(run_id)


@shared_task(name="evaluations.serving_sweep", acks_late=True)
def serving_sweep_task() -> int:
    """Beat: stop serving jobs left running by an evaluation that ended without stopping them."""
    return services.eval_serving_sweep()
