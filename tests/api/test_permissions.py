"""Every role against every endpoint: who may read, who may write, and what the others get."""
from __future__ import annotations

import pytest

from curation.roles import ROLES

from .objects import seed_everything

pytestmark = pytest.mark.django_db

VIEWER_RESOURCES = (
    "problems", "tests", "solutions", "predictions", "verification-runs", "reviews", "selections", "snapshots",
    "exports", "import-runs", "stage-runs",
)
ADMIN_RESOURCES = ("webhooks", "webhook-deliveries")
ALL_ROLES = ("anon", "nobody", *ROLES)


def expected_read(role: str, needed: str) -> int:
    if role == "anon":
        return 401
    if role == "nobody":
        return 403
    return 200 if ROLES.index(role) >= ROLES.index(needed) else 403


@pytest.fixture
def ids(users, problems):
    return seed_everything(users, problems)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("resource", VIEWER_RESOURCES + ADMIN_RESOURCES)
def test_read_list_and_detail(api, ids, role, resource):
    needed = "admin" if resource in ADMIN_RESOURCES else "viewer"
    client = api(role)
    for url in (f"/api/v1/{resource}/", f"/api/v1/{resource}/{ids[resource]}/"):
        r = client.get(url)
        assert r.status_code == expected_read(role, needed), (url, r.status_code, r.content[:200])
        body = r.json()
        if r.status_code == 200:
            assert ("results" in body) == url.endswith(f"{resource}/")
        else:
            assert body["detail"] and body["message"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_nested_endpoints(api, ids, role):
    client = api(role)
    snap, export = ids["snapshots"], ids["exports"]
    for url in (f"/api/v1/snapshots/{snap}/items/", f"/api/v1/snapshots/{snap}/diff/?other={snap}",
                f"/api/v1/exports/{export}/download/"):
        assert client.get(url).status_code == expected_read(role, "viewer"), url


def _writes(ids, version):
    return [
        ("patch", f"/api/v1/problems/{ids['problems']}/", {"version": version, "bucket": "hard"}, 200),
        ("post", "/api/v1/selections/", {"name": "s", "problem_ids": [ids["problems"]]}, 201),
        ("post", "/api/v1/snapshots/", {"name": "new"}, 201),
        ("post", "/api/v1/exports/", {"snapshot": ids["snapshots"], "format": "trl"}, 202),
    ]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_curator_writes(api, ids, role):
    from curation.models import Problem

    client = api(role)
    version = Problem.objects.get(pk=ids["problems"]).version
    for method, url, body, ok in _writes(ids, version):
        r = getattr(client, method)(url, body, format="json")
        expected = ok if expected_read(role, "curator") == 200 else expected_read(role, "curator")
        assert r.status_code == expected, (role, url, r.json())


@pytest.mark.parametrize("role", ALL_ROLES)
def test_admin_writes(api, ids, role):
    client = api(role)
    hook = ids["webhooks"]
    cases = [
        ("post", "/api/v1/webhooks/", {"url": "http://93.184.216.34/x", "events": ["run.finished"]}, 201),  # a public address: loopback is refused (SSRF)
        ("patch", f"/api/v1/webhooks/{hook}/", {"is_active": False}, 200),
        ("delete", f"/api/v1/webhooks/{hook}/", None, 204),
    ]
    for method, url, body, ok in cases:
        r = getattr(client, method)(url, body, format="json")
        expected = ok if expected_read(role, "admin") == 200 else expected_read(role, "admin")
        assert r.status_code == expected, (role, url)


@pytest.mark.parametrize("resource", VIEWER_RESOURCES)
def test_read_only_resources_refuse_writes_with_json_405(api, ids, resource):
    client = api("admin")
    url = f"/api/v1/{resource}/{ids[resource]}/"
    for method in ("put", "delete"):
        r = getattr(client, method)(url, {}, format="json")
        assert r.status_code == 405, (method, url)
        assert "not allowed" in r.json()["detail"] and r.json()["message"]
