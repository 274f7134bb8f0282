"""Outgoing webhooks, signed the Standard Webhooks way (webhook-id, webhook-timestamp,
webhook-signature headers; `standardwebhooks.Webhook(secret).verify(body, headers)` checks them).

Other code calls `webhook_event_emit(event, payload)` after its transaction commits: one
WebhookDelivery row per subscribed endpoint, each sent by a Celery task that retries with
exponential backoff (`WEBHOOK_MAX_RETRIES` retries). Every attempt is logged on the row.

Targets are checked against server-side request forgery: a webhook URL must resolve to public
addresses only — not loopback, private, link-local (cloud metadata at 169.254.169.254), shared,
reserved or multicast — unless its host or address range is in `WEBHOOK_ALLOWED_HOSTS` (for
on-premise receivers). The check runs when a webhook is registered or changed, and again at every
delivery after DNS; the delivery then connects to the very address that was checked (so a DNS
answer that changes in between — rebinding — cannot redirect it), redirects are never followed,
and only the status and a short excerpt of the answer are kept.
"""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import logging
import os
import socket
import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook

from curation.errors import FieldError
from curation.models import Webhook, WebhookDelivery
from curation.services.audit import audit_event_record

logger = logging.getLogger(__name__)

WEBHOOK_EVENTS = ("snapshot.created", "export.finished", "run.finished", "training_run.finished", "eval_run.finished")
WEBHOOK_MAX_RETRIES = 5
WEBHOOK_TIMEOUT_SECONDS = 10.0
# Only a short excerpt of the receiver's answer is kept: enough to debug a failing receiver,
# too little to turn webhooks into a way to read internal services.
RESPONSE_EXCERPT_CHARS = 200
URL_MAX_LENGTH = 2000


class WebhookInputError(FieldError):
    """A webhook's url, events or secret refused; `field` names it."""


class WebhookTargetRefused(ValueError):
    """The URL's host is not a public address and is not allow-listed."""


def _resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (every one is checked; the first is connected to)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _allowed_networks() -> tuple[set[str], list]:
    names, networks = set(), []
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _address_refusal(address: str, networks: list) -> str | None:
    """Why `address` may not be a webhook target (None when it may)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in net for net in networks if net.version == ip.version):
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        return _address_refusal(str(ip.ipv4_mapped), networks)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (e.g. cloud metadata)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "the unspecified address"
    if not ip.is_global:
        return "a private or reserved address"
    return None


def webhook_target_resolve(url: str) -> tuple[str, str, int, list[str]]:
    """Check `url` and resolve its host: (scheme, host, port, addresses), every address vetted.
    Raises WebhookTargetRefused with the reason (which address, why, and how to allow it)."""
    if len(url) > URL_MAX_LENGTH:
        raise WebhookTargetRefused(f"at most {URL_MAX_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookTargetRefused(f"not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookTargetRefused("only http:// and https:// URLs")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise WebhookTargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise WebhookTargetRefused("credentials in the URL are not accepted; use the signing secret")
    port = port or (443 if parts.scheme == "https" else 80)
    names, networks = _allowed_networks()
    try:
        addresses = _resolve(host, port)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise WebhookTargetRefused(f"cannot resolve {host} ({exc})") from None
    if not addresses:
        raise WebhookTargetRefused(f"{host} resolves to no address")
    if host not in names:
        for address in addresses:
            why = _address_refusal(address, networks)
            if why:
                raise WebhookTargetRefused(
                    f"{host} resolves to {address}, {why}; webhooks go to public addresses only "
                    "(add the host or its range to WEBHOOK_ALLOWED_HOSTS for an on-premise receiver)"
                )
    return parts.scheme, host, port, addresses


def _url_validate(url) -> str:
    if not isinstance(url, str) or not url.strip():
        raise WebhookInputError("url", "a http(s) URL is required")
    url = url.strip()
    try:
        webhook_target_resolve(url)
    except WebhookTargetRefused as exc:
        raise WebhookInputError("url", str(exc)) from None
    return url


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
    url = _url_validate(url)
    events = _events_validate(events)
    secret = _secret_validate(secret) if secret else webhook_secret_generate()
    with transaction.atomic():
        hook = Webhook.objects.create(url=url, secret=secret, events=events, is_active=is_active)
        audit_event_record(actor=user, action="webhook_create", target=hook, after={"url": url, "events": events})
    return hook


def webhook_update(*, webhook: Webhook, user, **changes) -> Webhook:
    before = {"url": webhook.url, "events": webhook.events, "is_active": webhook.is_active}
    if "url" in changes:
        changes["url"] = _url_validate(changes["url"])
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


def _post_pinned(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to `url`, connecting to an address vetted just now (not to whatever a second DNS
    lookup would say), without following redirects. Returns (status, excerpt of the answer)."""
    scheme, host, port, addresses = webhook_target_resolve(url)
    address = addresses[0]
    parts = urlsplit(url)
    netloc_ip = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((scheme, f"{netloc_ip}:{port}", parts.path or "/", parts.query, ""))
    default_port = 443 if scheme == "https" else 80
    headers = dict(headers, host=host if port == default_port else f"{host}:{port}")
    # The TLS certificate is still checked against the host name (SNI + hostname check).
    extensions = {"sni_hostname": host} if scheme == "https" else {}
    with httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
        request = client.build_request("POST", pinned, content=body, headers=headers, extensions=extensions)
        response = client.send(request, stream=True)
        try:
            raw = b""
            for chunk in response.iter_raw():
                raw += chunk
                if len(raw) >= RESPONSE_EXCERPT_CHARS * 4:
                    break
        finally:
            response.close()
    excerpt = raw.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_CHARS]
    if response.is_redirect:
        excerpt = f"redirect to {response.headers.get('location', '')[:100]} not followed"
    return response.status_code, excerpt


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
        status_code, response_body = _post_pinned(delivery.webhook.url, body.encode("utf-8"), headers)
        ok = 200 <= status_code < 300
    except WebhookTargetRefused as exc:
        response_body = f"refused: {exc}"[:RESPONSE_EXCERPT_CHARS * 2]
        ok = False
    except httpx.HTTPError as exc:
        response_body = f"{type(exc).__name__}: {exc}"[:RESPONSE_EXCERPT_CHARS]
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
