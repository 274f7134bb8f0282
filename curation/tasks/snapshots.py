"""Celery task: a snapshot made in the background (see curation.services.snapshot_jobs)."""
from celery import shared_task

from curation.services import snapshot_jobs


@shared_task(name="curation.tasks.snapshots.snapshot_job_task", acks_late=True)
def snapshot_job_task(run_id: int) -> None:
    snapshot_jobs.snapshot_job_execute(run_id)
