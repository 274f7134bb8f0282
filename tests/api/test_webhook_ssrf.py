"""Webhooks cannot be aimed at the inside: loopback, link-local (cloud metadata), private and
other non-public targets are refused at registration and again at delivery after DNS; a DNS
answer that changes between the check and the connection (rebinding) cannot move the request;
redirects are not followed; only the status and a short excerpt of the answer are stored."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from curation.models import Webhook, WebhookDelivery
from curation.services import webhooks as webhook_services
from curation.services.webhooks import WebhookInputError, webhook_create, webhook_delivery_attempt, webhook_event_emit

pytestmark = pytest.mark.django_db

INSIDE_TARGETS = [
    "http://127.0.0.1:8000/hook",
    "http://localhost:6379/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://172.16.0.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT, shared address space
    "http://0.0.0.0:8000/",
    "http://[::1]:8000/",
    "http://[::ffff:127.0.0.1]:8000/",
    "http://[fe80::1]/",
    "http://2130706433/",  # 127.0.0.1 written as one number
]


class Server:
    """A local HTTP endpoint answering every POST with a fixed status, headers and body."""

    def __init__(self, status=200, body=b"ok", headers=None):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"host": self.headers["Host"], "path": self.path})
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("url", INSIDE_TARGETS)
def test_inside_targets_are_refused_at_registration(url, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(WebhookInputError) as err:
        webhook_create(url=url, events=["*"], user=None)
    assert err.value.field == "url" and "public addresses only" in err.value.message
    assert not Webhook.objects.exists()


def test_api_names_the_field_and_the_address(api, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    r = api("admin").post("/api/v1/webhooks/", {"url": "http://169.254.169.254/latest/", "events": ["*"]}, format="json")
    assert r.status_code == 400
    message = r.json()["url"][0]
    assert "169.254.169.254" in message and "link-local" in message and "WEBHOOK_ALLOWED_HOSTS" in message
    r = api("admin").post("/api/v1/webhooks/", {"url": "ftp://example.org/", "events": ["*"]}, format="json")
    assert r.status_code == 400 and "url" in r.json()


def test_a_name_that_resolves_inside_is_refused(monkeypatch, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    monkeypatch.setattr(webhook_services, "_resolve", lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(WebhookInputError) as err:
        webhook_create(url="https://hooks.example.org/x", events=["*"], user=None)
    assert "10.1.2.3" in err.value.message  # every address is checked, not only the first


def test_changing_the_url_is_checked_too(monkeypatch, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    monkeypatch.setattr(webhook_services, "_resolve", lambda host, port: ["93.184.216.34"])
    hook = webhook_create(url="https://hooks.example.org/x", events=["*"], user=None)
    monkeypatch.setattr(webhook_services, "_resolve", lambda host, port: ["127.0.0.1"])
    with pytest.raises(WebhookInputError):
        webhook_services.webhook_update(webhook=hook, user=None, url="https://internal.example.org/")
    hook.refresh_from_db()
    assert hook.url == "https://hooks.example.org/x"


def test_allow_list_admits_on_premise_targets_by_name_or_range(monkeypatch, settings):
    monkeypatch.setattr(webhook_services, "_resolve", lambda host, port: ["10.20.3.4"])
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(WebhookInputError):
        webhook_create(url="http://hooks.corp/x", events=["*"], user=None)
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.corp"]
    assert webhook_create(url="http://hooks.corp/x", events=["*"], user=None).pk
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.20.0.0/16"]
    assert webhook_create(url="http://other.corp/x", events=["*"], user=None).pk
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.30.0.0/16"]
    with pytest.raises(WebhookInputError):
        webhook_create(url="http://other.corp/x", events=["*"], user=None)


def test_delivery_rechecks_after_dns_and_sends_nothing_inside(monkeypatch, settings):
    """Registered while the name was public; by delivery time DNS says loopback: refused, and
    the local service never sees a request."""
    settings.WEBHOOK_ALLOWED_HOSTS = []
    server = Server()
    try:
        monkeypatch.setattr(webhook_services, "_resolve", lambda host, port: ["93.184.216.34"])
        webhook_create(url=f"http://rebind.example.org:{server.port}/hook", events=["*"], user=None)
        monkeypatch.setattr(webhook_services, "_resolve", lambda host, port: ["127.0.0.1"])
        delivery = webhook_event_emit("run.finished", {"id": 1})[0]
        assert webhook_delivery_attempt(delivery.pk, final=True) is False
    finally:
        server.close()
    assert server.requests == []
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.response_status is None
    assert delivery.response_body.startswith("refused:") and "127.0.0.1" in delivery.response_body


def test_delivery_connects_to_the_address_it_checked(monkeypatch, settings):
    """Rebinding: the first answer is vetted, later answers would point elsewhere. The request
    goes to the vetted address (with the original Host header); DNS is asked once."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1/32"]
    server = Server()
    answers = []

    def resolve(host, port):
        answers.append(host)
        return ["127.0.0.1"] if len(answers) % 2 else ["10.9.9.9"]

    try:
        monkeypatch.setattr(webhook_services, "_resolve", lambda host, port: ["127.0.0.1"])
        webhook_create(url=f"http://hooks.example.test:{server.port}/hook?x=1", events=["*"], user=None)
        monkeypatch.setattr(webhook_services, "_resolve", resolve)
        delivery = webhook_event_emit("run.finished", {"id": 1})[0]
        assert webhook_delivery_attempt(delivery.pk) is True
    finally:
        server.close()
    assert answers == ["hooks.example.test"]
    assert server.requests == [{"host": f"hooks.example.test:{server.port}", "path": "/hook?x=1"}]


def test_redirects_are_not_followed(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    target = Server(body=b"secret metadata")
    redirector = Server(status=302, body=b"", headers={"Location": f"http://127.0.0.1:{target.port}/steal"})
    try:
        webhook_create(url=f"http://127.0.0.1:{redirector.port}/hook", events=["*"], user=None)
        delivery = webhook_event_emit("run.finished", {"id": 1})[0]
        assert webhook_delivery_attempt(delivery.pk, final=True) is False
    finally:
        target.close()
        redirector.close()
    assert target.requests == [] and len(redirector.requests) == 1
    delivery.refresh_from_db()
    assert delivery.response_status == 302 and "not followed" in delivery.response_body


def test_only_a_short_excerpt_of_the_answer_is_kept(settings, api):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = Server(status=500, body=b"A" * 100 + b"B" * 100_000)
    try:
        webhook_create(url=f"http://127.0.0.1:{server.port}/hook", events=["*"], user=None)
        delivery = webhook_event_emit("run.finished", {"id": 1})[0]
        webhook_delivery_attempt(delivery.pk, final=True)
    finally:
        server.close()
    delivery.refresh_from_db()
    assert delivery.response_status == 500
    assert len(delivery.response_body) == webhook_services.RESPONSE_EXCERPT_CHARS <= 200
    assert delivery.response_body.startswith("A" * 100)
    shown = api("admin").get(f"/api/v1/webhook-deliveries/{delivery.pk}/").json()
    assert len(shown["response_body"]) <= 200
    assert WebhookDelivery.objects.get(pk=delivery.pk).response_body == shown["response_body"]
