"""Outgoing webhooks, signed the Standard Webhooks way (webhook-id, webhook-timestamp,
webhook-signature headers; `standardwebhooks.Webhook(secret).verify(body, headers)` checks them).

Other code calls `webhook_event_emit(event, payload)` after its transaction commits: one
WebhookDelivery row per subscribed endpoint, each sent by a Celery task that retries with
exponential backoff (`WEBHOOK_MAX_RETRIES` retries). Every attempt is logged on the row.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import uuid

import httpx
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook

from curation.models import Webhook, WebhookDelivery
from curation.services.audit import audit_event_record

logger = logging.getLogger(__name__)

WEBHOOK_EVENTS = ("snapshot.created", "export.finished", "run.finished", "eval_run.finished")
WEBHOOK_MAX_RETRIES = 5
WEBHOOK_TIMEOUT_SECONDS = 10.0
RESPONSE_BODY_LIMIT = 2000


class WebhookInputError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def webhook_secret_generate() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode("ascii")


def _events_validate(events) -> list[str]:
    if not isinstance(events, list) or not events:
        raise WebhookInputError("events", f"expected a non-empty list of: {', '.join(WEBHOOK_EVENTS)}")
    for event in events:
        if event not in WEBHOOK_EVENTS and event != "*":
            raise WebhookInputError("events", f"unknown event {event!r}; known events: {', '.join(WEBHOOK_EVENTS)}")
    return sorted(set(events))


def _secret_validate(secret: str) -> str:
    """whsec_ + base64 of at least 24 random bytes (the Standard Webhooks recommendation)."""
    import binascii

    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True) if secret.startswith("whsec_") else b""
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < 24:
        raise WebhookInputError("secret", "expected a Standard Webhooks secret: whsec_ + base64 of at least 24 bytes")
    return secret


def webhook_create(*, url: str, events: list[str], user, secret: str | None = None, is_active: bool = True) -> Webhook:
    events = _events_validate(events)
    secret = _secret_validate(secret) if secret else webhook_secret_generate()
    with transaction.atomic():
        hook = Webhook.objects.create(url=url, secret=secret, events=events, is_active=is_active)
        audit_event_record(actor=user, action="webhook_create", target=hook, after={"url": url, "events": events})
    return hook


def webhook_update(*, webhook: Webhook, user, **changes) -> Webhook:
    before = {"url": webhook.url, "events": webhook.events, "is_active": webhook.is_active}
    if "events" in changes:
        changes["events"] = _events_validate(changes["events"])
    if changes.get("secret"):
        changes["secret"] = _secret_validate(changes["secret"])
    with transaction.atomic():
        for name, value in changes.items():
            if name in ("url", "events", "is_active", "secret"):
                setattr(webhook, name, value)
        webhook.save()
        after = {"url": webhook.url, "events": webhook.events, "is_active": webhook.is_active}
        audit_event_record(actor=user, action="webhook_update", target=webhook, before=before, after=after)
    return webhook


def webhook_delete(*, webhook: Webhook, user) -> None:
    with transaction.atomic():
        audit_event_record(actor=user, action="webhook_delete", target=webhook, before={"url": webhook.url})
        webhook.delete()


def webhook_event_emit(event: str, payload: dict) -> list[WebhookDelivery]:
    """Record one delivery per active webhook subscribed to `event` and dispatch them (after
    commit when called inside a transaction, at once otherwise)."""
    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    hooks = [h for h in Webhook.objects.filter(is_active=True).order_by("id") if event in h.events or "*" in h.events]
    if not hooks:
        return []
    envelope = {"type": event, "timestamp": timezone.now().isoformat(), "data": payload}
    deliveries = [
        WebhookDelivery(webhook=h, event=event, message_id=f"msg_{uuid.uuid4().hex}", payload=envelope) for h in hooks
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    from curation.tasks.webhooks import webhook_deliver_task

    for delivery in deliveries:
        pk = delivery.pk
        transaction.on_commit(lambda pk=pk: webhook_deliver_task.delay(pk))
    return deliveries


def run_finished_emit(run) -> list[WebhookDelivery]:
    """Convenience for import and stage runs: call after the run's final commit."""
    payload = {
        "kind": type(run).__name__,
        "id": run.pk,
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "message": run.message,
    }
    if hasattr(run, "stage"):
        payload["stage"] = run.stage
    return webhook_event_emit("run.finished", payload)


def webhook_retry_delay(retries: int) -> int:
    """Seconds before retry number `retries + 1`: 10 s, 40 s, 160 s, 640 s, then capped at one hour."""
    return min(3600, 10 * 4**retries)


def webhook_request_sign(secret: str, message_id: str, body: str, when: dt.datetime | None = None) -> dict[str, str]:
    when = when or timezone.now()
    signature = StandardWebhook(secret).sign(message_id, when, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "MicroCoder-Webhooks/1",
    }


def webhook_delivery_attempt(delivery_id: int, *, final: bool = False) -> bool:
    """One signed POST. True when delivered (2xx). On failure the row stays `pending` for a
    retry, or becomes `failed` when this was the `final` attempt."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.status == "delivered":
        return True
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    headers = webhook_request_sign(delivery.webhook.secret, delivery.message_id, body)
    status_code: int | None = None
    try:
        response = httpx.post(delivery.webhook.url, content=body.encode("utf-8"), headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS)
        status_code = response.status_code
        response_body = response.text[:RESPONSE_BODY_LIMIT]
        ok = 200 <= status_code < 300
    except httpx.HTTPError as exc:
        response_body = f"{type(exc).__name__}: {exc}"[:RESPONSE_BODY_LIMIT]
        ok = False
    fields = {
        "attempts": F("attempts") + 1,
        "response_status": status_code,
        "response_body": response_body,
        "status": "delivered" if ok else ("failed" if final else "pending"),
    }
    if ok:
        fields["delivered_at"] = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery_id).update(**fields)
    if not ok:
        logger.warning("webhook delivery %s to %s failed (status %s)", delivery_id, delivery.webhook.url, status_code)
    return ok
