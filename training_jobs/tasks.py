"""Celery tasks on the `jobs` queue (routed by settings.CELERY_TASK_ROUTES): thin, explicitly
named, idempotent and acks_late — a restarted worker resumes polling and loses nothing."""
from celery import shared_task

from training_jobs.services import launch


@shared_task(name="training_jobs.tasks.submit_attempt", acks_late=True)
def submit_attempt_task(attempt_id: int) -> None:
    launch.training_attempt_submit(attempt_id)
    launch.training_attempt_poll(attempt_id)


@shared_task(name="training_jobs.tasks.cancel_attempt", acks_late=True)
def cancel_attempt_task(attempt_id: int) -> None:
    launch.training_attempt_cancel(attempt_id)


@shared_task(name="training_jobs.tasks.poll_attempt", acks_late=True)
def poll_attempt_task(attempt_id: int) -> None:
    launch.training_attempt_poll(attempt_id)


@shared_task(name="training_jobs.tasks.poll_active", acks_late=True)
def poll_active_task() -> int:
    """Beat runs this every 10 s: one look at every job on a backend."""
    ids = launch.active_attempt_ids()
    for attempt_id in ids:
        launch.training_attempt_poll(attempt_id)
    return len(ids)
