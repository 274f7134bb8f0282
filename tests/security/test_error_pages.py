"""The 403/404/500 pages are styled, keep the navigation and say why; /healthz/ reports the
database. (tests/security/test_production.py checks the same pages with production settings.)"""
from __future__ import annotations

import pytest
from django.db.utils import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_403_says_which_role_is_needed_and_keeps_the_navigation(client, make_user):
    client.force_login(make_user("plainviewer", "viewer"))
    r = client.get("/review/")
    assert r.status_code == 403
    html = r.content.decode()
    assert "Not allowed" in html and "this needs the curator role" in html
    assert 'nav aria-label="Main"' in html and "plainviewer" in html  # navigation and who is logged in


def test_404_names_the_missing_item_and_keeps_the_navigation(client, make_user):
    client.force_login(make_user("lost", "viewer"))
    r = client.get("/imports/999999/")
    assert r.status_code == 404
    html = r.content.decode()
    assert "Not found" in html and "no such import" in html and 'nav aria-label="Main"' in html
    r = client.get("/nowhere/at/all/")
    assert r.status_code == 404 and "/nowhere/at/all/" in r.content.decode()
    assert "URLconf" not in r.content.decode()


def test_500_page_renders_with_navigation(rf, make_user):
    from microcoder_site.views import server_error

    request = rf.get("/boom/")
    request.user = make_user("unlucky", "viewer")
    r = server_error(request)
    assert r.status_code == 500
    html = r.content.decode()
    assert "Server error" in html and 'nav aria-label="Main"' in html and "nothing was changed" in html


def test_health_endpoint_reports_the_database(monkeypatch):
    client = Client()
    r = client.get("/healthz/", HTTP_HOST="10.1.2.3:8000")  # not in ALLOWED_HOSTS: answered anyway
    assert r.status_code == 200 and r.json() == {"status": "ok", "checks": {"database": "ok"}}

    from microcoder_site import health

    class Broken:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", Broken())
    r = client.get("/healthz/")
    assert r.status_code == 503 and r.json()["checks"]["database"] == "error: OperationalError"
