"""Password guessing is throttled (django-axes): after LOGIN_FAILURE_LIMIT (5) wrong passwords for
one username from one address, even the right password is refused with a 429 that says why —
on the workspace login, the admin login and the API token endpoint alike."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_login_page_locks_out_after_five_wrong_passwords(client, make_user, settings):
    make_user("mallory_target", "viewer")
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        r = client.post("/accounts/login/", {"username": "mallory_target", "password": "guess"})
        assert r.status_code == 200 and b"Please try again" in r.content
    r = client.post("/accounts/login/", {"username": "mallory_target", "password": "guess"})
    assert r.status_code == 429
    r = client.post("/accounts/login/", {"username": "mallory_target", "password": "pw-mallory_target"})
    assert r.status_code == 429 and b"Too many failed logins" in r.content and b'class="topbar"' in r.content
    assert int(r["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    make_user("someone_else", "viewer")
    r = client.post("/accounts/login/", {"username": "someone_else", "password": "pw-someone_else"})
    assert r.status_code == 302 and client.session["_auth_user_id"]


def test_a_success_before_the_limit_resets_the_count(client, make_user):
    make_user("forgetful", "viewer")
    for _ in range(4):
        client.post("/accounts/login/", {"username": "forgetful", "password": "nope"})
    assert client.post("/accounts/login/", {"username": "forgetful", "password": "pw-forgetful"}).status_code == 302
    client.logout()
    for _ in range(4):
        assert client.post("/accounts/login/", {"username": "forgetful", "password": "nope"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "forgetful", "password": "pw-forgetful"}).status_code == 302


def test_token_endpoint_locks_out_too(make_user):
    make_user("apiuser", "viewer")
    api = APIClient()
    for _ in range(5):
        r = api.post("/api/v1/auth/token/", {"username": "apiuser", "password": "wrong"}, format="json")
        assert r.status_code in (400, 429)
    r = api.post("/api/v1/auth/token/", {"username": "apiuser", "password": "pw-apiuser"}, format="json")
    assert r.status_code == 429 and "Too many failed logins" in r.json()["detail"]
    assert not ApiToken.objects.exists()


def test_admin_login_locks_out_too(client, make_user):
    make_user("boss", "admin", is_staff=True)
    for _ in range(5):
        client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "wrong"})
    r = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "pw-boss"})
    assert r.status_code == 429 and "_auth_user_id" not in client.session
