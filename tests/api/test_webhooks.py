"""Webhooks against a real HTTP receiver on 127.0.0.1: Standard Webhooks signatures verified by
the receiver, retries with backoff recorded on the delivery row, the events snapshot.created
and export.finished, and the admin-only API."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook as StandardWebhook

from curation.models import WebhookDelivery
from curation.services import webhooks as webhook_services
from curation.services.exports import export_create, export_execute
from curation.services.snapshots import snapshot_create
from curation.services.webhooks import webhook_create, webhook_event_emit, webhook_retry_delay
from curation.tasks import webhooks as webhook_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    """The receivers here listen on loopback, which webhooks refuse unless allow-listed (the
    on-premise setting; tests/api/test_webhook_ssrf.py covers the refusals)."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


class Receiver:
    """A local endpoint: verifies each request's signature with the shared secret."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[dict] = []
        self.secret: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    verified = StandardWebhook(receiver.secret).verify(body, headers)
                except Exception as exc:  # noqa: BLE001
                    verified = f"INVALID: {exc}"
                receiver.received.append({"headers": headers, "body": body, "verified": verified})
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def eager_delivery(monkeypatch):
    """Dispatch runs the task in-process (Celery's eager apply also runs its retries at once)."""
    monkeypatch.setattr(webhook_tasks.webhook_deliver_task, "delay", lambda pk: webhook_tasks.webhook_deliver_task.apply(args=[pk]))


def test_signed_delivery_verifies_at_the_receiver(db, eager_delivery, django_capture_on_commit_callbacks):
    with Receiver(200) as receiver:
        hook = webhook_create(url=receiver.url, events=["run.finished"], user=None)
        receiver.secret = hook.secret
        with django_capture_on_commit_callbacks(execute=True):
            deliveries = webhook_event_emit("run.finished", {"kind": "ImportRun", "id": 7, "status": "succeeded"})
    assert len(deliveries) == 1 and len(receiver.received) == 1
    got = receiver.received[0]
    assert not str(got["verified"]).startswith("INVALID"), got["verified"]
    assert got["verified"]["type"] == "run.finished" and got["verified"]["data"]["id"] == 7
    assert got["headers"]["webhook-id"] == deliveries[0].message_id
    assert got["headers"]["webhook-signature"].startswith("v1,")
    delivery = WebhookDelivery.objects.get(pk=deliveries[0].pk)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None


def test_wrong_secret_fails_verification(db):
    with Receiver(200) as receiver:
        hook = webhook_create(url=receiver.url, events=["*"], user=None)
        receiver.secret = webhook_services.webhook_secret_generate()  # not the hook's
        delivery = webhook_event_emit("export.finished", {"id": 1})[0]
        assert webhook_services.webhook_delivery_attempt(delivery.pk)
    assert str(receiver.received[0]["verified"]).startswith("INVALID")
    assert hook.secret.startswith("whsec_")


def test_failing_receiver_is_retried_with_backoff_and_recorded(db, eager_delivery, django_capture_on_commit_callbacks, monkeypatch):
    delays = []
    original_retry = webhook_tasks.webhook_deliver_task.retry

    def recording_retry(*args, **kwargs):
        delays.append(kwargs.get("countdown"))
        return original_retry(*args, **kwargs)

    monkeypatch.setattr(webhook_tasks.webhook_deliver_task, "retry", recording_retry)
    with Receiver(500) as receiver:
        hook = webhook_create(url=receiver.url, events=["snapshot.created"], user=None)
        receiver.secret = hook.secret
        with django_capture_on_commit_callbacks(execute=True):
            delivery = webhook_event_emit("snapshot.created", {"id": 1})[0]
    attempts = 1 + webhook_services.WEBHOOK_MAX_RETRIES
    assert len(receiver.received) == attempts
    # Every attempt is signed afresh and verifies; the message id stays the same.
    assert all(not str(r["verified"]).startswith("INVALID") for r in receiver.received)
    assert {r["headers"]["webhook-id"] for r in receiver.received} == {delivery.message_id}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.response_body) == ("failed", attempts, 500, "nope")
    assert delays == [webhook_retry_delay(i) for i in range(webhook_services.WEBHOOK_MAX_RETRIES)]
    assert delays == [10, 40, 160, 640, 2560]


def test_unreachable_receiver_records_the_error(db):
    hook = webhook_create(url="http://127.0.0.1:9/nowhere", events=["*"], user=None)
    delivery = webhook_event_emit("run.finished", {"id": 1})[0]
    assert webhook_services.webhook_delivery_attempt(delivery.pk, final=True) is False
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 1 and "ConnectError" in delivery.response_body
    assert hook.deliveries.count() == 1


def test_snapshot_and_export_events_after_commit(users, problems, eager_delivery, django_capture_on_commit_callbacks):
    with Receiver(204) as receiver:
        hook = webhook_create(url=receiver.url, events=["snapshot.created", "export.finished"], user=None)
        webhook_create(url=receiver.url, events=["run.finished"], user=None)  # not subscribed
        receiver.secret = hook.secret
        with django_capture_on_commit_callbacks(execute=True):
            snap = snapshot_create(name="hooked", user=users["curator"])
        export = export_create(snapshot=snap, format="trl", user=None)
        with django_capture_on_commit_callbacks(execute=True):
            export_execute(export.pk)
    events = [r["verified"]["type"] for r in receiver.received]
    assert events == ["snapshot.created", "export.finished"]
    assert receiver.received[0]["verified"]["data"]["content_hash"] == snap.content_hash
    finished = receiver.received[1]["verified"]["data"]
    assert (finished["id"], finished["status"]) == (export.pk, "succeeded") and len(finished["sha256"]) == 64
    assert WebhookDelivery.objects.filter(status="delivered").count() == 2


def test_no_delivery_when_nobody_subscribes(db):
    webhook_create(url="http://127.0.0.1:9/x", events=["export.finished"], user=None, is_active=True)
    webhook_create(url="http://127.0.0.1:9/y", events=["snapshot.created"], user=None, is_active=False)
    assert webhook_event_emit("snapshot.created", {"id": 1}) == []
    with pytest.raises(ValueError):
        webhook_event_emit("nonsense", {})


def test_webhook_api_is_admin_only(api):
    body = {"url": "http://127.0.0.1:9/hook", "events": ["export.finished"]}
    for role in ("viewer", "curator", "adjudicator"):
        assert api(role).post("/api/v1/webhooks/", body, format="json").status_code == 403
        assert api(role).get("/api/v1/webhooks/").status_code == 403
        assert api(role).get("/api/v1/webhook-deliveries/").status_code == 403
    admin = api("admin")
    r = admin.post("/api/v1/webhooks/", body, format="json")
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    hook_id = r.json()["id"]
    r = admin.patch(f"/api/v1/webhooks/{hook_id}/", {"events": ["bogus"]}, format="json")
    assert r.status_code == 400 and "events" in r.json()
    r = admin.patch(f"/api/v1/webhooks/{hook_id}/", {"is_active": False}, format="json")
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = admin.post("/api/v1/webhooks/", {**body, "secret": "not-a-secret!"}, format="json")
    assert r.status_code == 400 and "secret" in r.json()
    assert admin.get("/api/v1/webhook-deliveries/").status_code == 200
    assert admin.delete(f"/api/v1/webhooks/{hook_id}/").status_code == 204
