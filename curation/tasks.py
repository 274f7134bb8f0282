"""Celery tasks: thin. They take ids, call a service, and the service reports progress on its row."""
from __future__ import annotations

from celery import shared_task

from curation.services import imports


@shared_task(acks_late=True)
def import_problems_task(run_id: int) -> None:
    imports.import_run_execute(run_id)


@shared_task
def expire_review_leases() -> int:
    from django.utils import timezone

    from curation.models import ReviewLease

    deleted, _ = ReviewLease.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
