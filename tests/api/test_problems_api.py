"""Problems endpoint (filters, cursor pagination, curator PATCH with the version check), JSON
errors that name the field, and API tokens."""
from __future__ import annotations

import pytest
from accounts.models import ApiToken
from rest_framework.test import APIClient

from curation.models import AuditEvent, Problem

from .conftest import make_problem

pytestmark = pytest.mark.django_db


def keys(response) -> list[str]:
    return [p["problem_key"] for p in response.json()["results"]]


def test_filters_are_the_workspace_filters(api, problems):
    client = api("viewer")
    assert keys(client.get("/api/v1/problems/?bucket=hard")) == ["testsrc:p3", "leet:f1"]
    assert keys(client.get("/api/v1/problems/?source=leet")) == ["leet:f1"]
    assert keys(client.get("/api/v1/problems/?source=leet&source=testsrc")) == ["testsrc:p1", "testsrc:p2", "testsrc:p3", "leet:f1"]
    assert keys(client.get("/api/v1/problems/?io_format=functional")) == ["leet:f1"]
    assert keys(client.get("/api/v1/problems/?q=p2")) == ["testsrc:p2"]
    assert keys(client.get("/api/v1/problems/?contest_date_after=2024-01-01")) == ["testsrc:p2", "leet:f1"]
    assert keys(client.get("/api/v1/problems/?edge_cases_min=6&platform=codeforces")) == ["testsrc:p1", "testsrc:p2"]
    assert keys(client.get("/api/v1/problems/?edge_cases_min=7")) == []
    r = client.get("/api/v1/problems/?bucket=impossible")
    assert r.status_code == 400 and "bucket" in r.json() and r.json()["message"].startswith("bucket:")
    r = client.get("/api/v1/problems/?contest_date_after=notadate")
    assert r.status_code == 400 and "contest_date_after" in r.json()


def test_cursor_pagination_walks_every_problem_once(api, db):
    for i in range(7):
        make_problem(f"x{i}", n_tests=1)
    client = api("viewer")
    seen, url, pages = [], "/api/v1/problems/?page_size=3", 0
    while url:
        body = client.get(url).json()
        seen += [p["id"] for p in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3 and seen == sorted(seen) and len(set(seen)) == 7
    assert client.get("/api/v1/problems/?cursor=garbage").status_code == 404
    assert client.get("/api/v1/problems/?cursor=garbage").json()["detail"] == "Invalid cursor"


def test_problem_detail(api, problems):
    r = api("viewer").get(f"/api/v1/problems/{problems[0].pk}/")
    body = r.json()
    assert (body["test_count"], body["training_test_count"], body["solution_count"]) == (4, 3, 2)
    assert body["statement"].startswith("Given numbers") and body["version"] == 1


def test_curator_patch_labels_and_scores_with_version_check(api, problems):
    p = problems[0]
    client = api("curator")
    url = f"/api/v1/problems/{p.pk}/"
    r = client.patch(url, {"version": 1, "bucket": "hard", "tags": ["dp"], "score_edge_cases": 9}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["bucket"], body["tags"], body["score_edge_cases"], body["version"]) == ("hard", ["dp"], 9.0, 2)
    # Weighted score recomputed from the default weights (no active rubric).
    assert body["weighted_score"] == pytest.approx((5 * 0.30 + 4 * 0.20 + 3 * 0.15 + 2 * 0.15 + 9 * 0.20) / 1.0)
    event = AuditEvent.objects.get(action="problem_labels_update", target_id=str(p.pk))
    assert event.before["bucket"] == "easy" and event.after["bucket"] == "hard" and event.actor.username == "curator_user"

    stale = client.patch(url, {"version": 1, "bucket": "easy"}, format="json")
    assert stale.status_code == 409
    assert "version" in stale.json()["detail"] and stale.json()["message"]
    assert Problem.objects.get(pk=p.pk).bucket == "hard"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"bucket": "hard"}, "version"),
        ({"version": 1, "statement": "rewritten"}, "statement"),
        ({"version": 1, "title": "x"}, "title"),
        ({"version": 1, "score_mathematics": 11}, "score_mathematics"),
        ({"version": 1, "calibrated_pass_rate": -0.1}, "calibrated_pass_rate"),
        ({"version": 1, "bucket": "trivial"}, "bucket"),
        ({"version": "one"}, "version"),
    ],
)
def test_patch_errors_name_the_field(api, problems, body, field):
    r = api("curator").patch(f"/api/v1/problems/{problems[0].pk}/", body, format="json")
    assert r.status_code == 400
    assert field in r.json() and r.json()["message"].startswith(f"{field}:")


def test_json_errors_for_404_405_and_unknown_paths(api, problems):
    client = api("viewer")
    r = client.get("/api/v1/problems/999999/")
    assert r.status_code == 404 and r.json()["detail"] and r.json()["message"]
    r = client.get("/api/v1/nothing-here/")
    assert r.status_code == 404 and r["Content-Type"] == "application/json" and r.json()["detail"]
    r = client.get("/api/v1/problems")
    assert r.status_code == 404 and "slash" in r.json()["detail"]
    r = client.get("/api/v1/problems/abc/")
    assert r.status_code == 404 and r.json()["detail"]
    r = api("admin").put(f"/api/v1/problems/{problems[0].pk}/", {}, format="json")
    assert r.status_code == 405 and r.json()["detail"] == 'Method "PUT" not allowed.'
    r = api("viewer").patch(f"/api/v1/problems/{problems[0].pk}/", {"version": 1}, format="json")
    assert r.status_code == 403 and "curator" in r.json()["detail"]
    r = APIClient().get("/api/v1/problems/")
    assert r.status_code == 401 and r.json()["message"] == "Authentication credentials were not provided."


def test_token_create_use_and_revoke(users, db):
    client = APIClient()
    r = client.post("/api/v1/auth/token/", {"username": "viewer_user", "password": "wrong"}, format="json")
    assert r.status_code == 400 and "password" in r.json()
    r = client.post("/api/v1/auth/token/", {"password": "x"}, format="json")
    assert r.status_code == 400 and "username" in r.json()
    r = client.post("/api/v1/auth/token/", {"username": "viewer_user", "password": "pw-viewer", "name": "ci"}, format="json")
    assert r.status_code == 201 and r.json()["created"] is True and r.json()["name"] == "ci"
    assert r["Cache-Control"] == "no-store"
    key = r.json()["token"]
    authed = APIClient()
    authed.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert authed.get("/api/v1/problems/").status_code == 200
    again = authed.post("/api/v1/auth/token/", {"name": "second"}, format="json")
    assert again.status_code == 201 and again.json()["token"] != key
    assert authed.delete("/api/v1/auth/token/").status_code == 204
    assert ApiToken.objects.get(pk=r.json()["id"]).revoked_at is not None
    r = authed.get("/api/v1/problems/")
    assert r.status_code == 401 and r.json()["detail"] == "Invalid token."


def test_session_auth_works_too(users, problems):
    client = APIClient()
    assert client.login(username="viewer_user", password="pw-viewer")
    assert client.get("/api/v1/problems/").status_code == 200
    r = client.post("/api/v1/auth/token/")
    assert r.status_code == 201


def test_schema_and_swagger_ui_are_served(db):
    client = APIClient()
    r = client.get("/api/v1/schema/?format=json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/v1/problems/", "/api/v1/exports/{id}/download/", "/api/v1/snapshots/{id}/diff/", "/api/v1/auth/token/"):
        assert path in paths
    assert client.get("/api/v1/docs/").status_code == 200
