"""Celery tasks: webhooks. Each delivery is retried with exponential backoff."""
from celery import shared_task

from curation.services import webhooks


@shared_task(name="curation.tasks.webhooks.webhook_deliver_task", bind=True, acks_late=True, max_retries=webhooks.WEBHOOK_MAX_RETRIES)
def webhook_deliver_task(self, delivery_id: int) -> None:
    final = self.request.retries >= self.max_retries
    if not webhooks.webhook_delivery_attempt(delivery_id, final=final) and not final:
        raise self.retry(countdown=webhooks.webhook_retry_delay(self.request.retries))
