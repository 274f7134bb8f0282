from celery import shared_task
from django.utils import timezone

from curation.models import ReviewLease


@shared_task(name="curation.tasks.maintenance.expire_review_leases")
def expire_review_leases() -> int:
    deleted, _ = ReviewLease.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
