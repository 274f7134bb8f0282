"""API tokens: stored only as a digest, shown once, named, expiring, revocable, managed from the
workspace's token page; creation is throttled and each token has its own rate limit."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from curation.models import AuditEvent

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_tokens_are_stored_as_digests_never_in_clear(make_user):
    make_user("alice", "viewer")
    r = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "pw-alice", "name": "laptop"}, format="json")
    assert r.status_code == 201
    raw = r.json()["token"]
    assert raw.startswith("mc_") and len(raw) > 40
    row = ApiToken.objects.get(pk=r.json()["id"])
    assert row.digest == hashlib.sha256(raw.encode()).hexdigest() and row.prefix == raw[:10]
    stored = " ".join(str(v) for v in ApiToken.objects.values_list().get(pk=row.pk))
    assert raw not in stored
    assert (row.name, row.user.username) == ("laptop", "alice")
    assert dt.timedelta(days=29) < row.expires_at - timezone.now() <= dt.timedelta(days=30)
    assert bearer(raw).get("/api/v1/problems/").status_code == 200
    assert bearer(raw[:-1] + ("A" if raw[-1] != "A" else "B")).get("/api/v1/problems/").status_code == 401
    # The listing never shows the token again, and "Token <key>" still works for old scripts.
    legacy = APIClient()
    legacy.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert legacy.get("/api/v1/problems/").status_code == 200


def test_expired_and_revoked_tokens_are_refused(make_user):
    user = make_user("bob", "viewer")
    row, raw = api_token_create(user=user, name="short", expires_in_days=1)
    assert bearer(raw).get("/api/v1/problems/").status_code == 200
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    r = bearer(raw).get("/api/v1/problems/")
    assert r.status_code == 401 and r.json()["detail"] == "Invalid token."
    row2, raw2 = api_token_create(user=user, name="other", expires_in_days=7)
    assert bearer(raw2).delete("/api/v1/auth/token/").status_code == 204
    assert bearer(raw2).get("/api/v1/problems/").status_code == 401
    assert ApiToken.objects.get(pk=row2.pk).state == "revoked"


@pytest.mark.parametrize("days", [0, -3, 366, 100000])
def test_expiry_is_bounded_with_a_message(make_user, days):
    make_user("carol", "viewer")
    r = APIClient().post("/api/v1/auth/token/", {"username": "carol", "password": "pw-carol", "expires_in_days": days}, format="json")
    assert r.status_code == 400 and "expires_in_days" in r.json()
    assert not ApiToken.objects.exists()


def test_token_page_creates_shows_once_and_revokes(client, make_user):
    user = make_user("dana", "viewer")
    make_user("eve", "viewer")
    client.force_login(user)
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and b"No tokens yet" in page.content
    r = client.post("/account/tokens/", {"name": "trainer", "expires_in_days": "90"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    raw = r.context["new_token"]
    assert raw.encode() in r.content and b"will not be shown again" in r.content
    row = ApiToken.objects.get(user=user)
    assert row.name == "trainer" and dt.timedelta(days=89) < row.expires_at - timezone.now() <= dt.timedelta(days=90)
    again = client.get("/account/tokens/")
    assert raw.encode() not in again.content and row.prefix.encode() in again.content and b"trainer" in again.content
    assert bearer(raw).get("/api/v1/problems/").status_code == 200
    # Someone else's token cannot be revoked from here.
    other_row, _ = api_token_create(user=make_user("frank", "viewer"), name="theirs", expires_in_days=7)
    assert client.post(f"/account/tokens/{other_row.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=other_row.pk).revoked_at is None
    r = client.post(f"/account/tokens/{row.pk}/revoke/")
    assert r.status_code == 302
    assert bearer(raw).get("/api/v1/problems/").status_code == 401
    assert list(AuditEvent.objects.filter(target_type="ApiToken").values_list("action", flat=True).order_by("id")) == [
        "api_token_create", "api_token_create", "api_token_revoke"]
    bad = client.post("/account/tokens/", {"name": "", "expires_in_days": "90"})
    assert bad.status_code == 400 and b"This field is required" in bad.content
    assert client.get("/account/tokens/").status_code == 200
    client.logout()
    assert client.get("/account/tokens/").status_code == 302  # login required


def test_token_creation_is_throttled(client, make_user, settings):
    settings.API_TOKEN_CREATE_RATE = "2/hour"
    user = make_user("gina", "viewer")
    api = APIClient()
    for _ in range(2):
        r = api.post("/api/v1/auth/token/", {"username": "gina", "password": "pw-gina"}, format="json")
        assert r.status_code == 201
    r = api.post("/api/v1/auth/token/", {"username": "gina", "password": "pw-gina"}, format="json")
    assert r.status_code == 429 and "Retry-After" in r
    assert ApiToken.objects.filter(user=user).count() == 2
    # The workspace page shares the limit (per user once logged in).
    client.force_login(make_user("hank", "viewer"))
    assert client.post("/account/tokens/", {"name": "a", "expires_in_days": "7"}).status_code == 200
    assert client.post("/account/tokens/", {"name": "b", "expires_in_days": "7"}).status_code == 200
    r = client.post("/account/tokens/", {"name": "c", "expires_in_days": "7"})
    assert r.status_code == 429 and b"Too many tokens created recently" in r.content
    assert ApiToken.objects.filter(user__username="hank").count() == 2


def test_each_token_has_its_own_rate_limit(make_user, settings):
    settings.API_TOKEN_RATE = "3/min"
    user = make_user("ivan", "viewer")
    _, first = api_token_create(user=user, name="one", expires_in_days=1)
    _, second = api_token_create(user=user, name="two", expires_in_days=1)
    statuses = [bearer(first).get("/api/v1/problems/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    r = bearer(first).get("/api/v1/problems/")
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert bearer(second).get("/api/v1/problems/").status_code == 200
