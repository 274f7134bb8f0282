"""Bounds on what people type: an overlong text filter, an out-of-range or reversed score range,
an id beyond any column — each a message naming the field (workspace) or a 400 (API), never a
500 and never a query with the bad value."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from curation.forms import ReviewForm, SavedViewForm
from curation.models import Problem, Source

pytestmark = pytest.mark.django_db

LONG = "a" * 100_000


@pytest.fixture
def viewer_client(client, make_user):
    user = make_user("viewer1", "viewer")
    client.force_login(user)
    source = Source.objects.create(name="boundsrc")
    Problem.objects.create(source=source, external_id="b1", title="Bounded sums", statement="x", weighted_score=5.0)
    return client


@pytest.fixture
def api_client(make_user):
    _row, raw = api_token_create(user=make_user("viewer2", "viewer"), name="t", expires_in_days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_long_text_filter_is_a_message_not_a_500(viewer_client):
    r = viewer_client.get("/problems/", {"q": LONG})
    assert r.status_code == 200
    assert b"Some filters were ignored" in r.content and b"at most 200 characters" in r.content
    assert b"Bounded sums" in r.content  # the rest of the list still works
    assert b'maxlength="200"' in r.content  # the input itself says so


def test_long_text_filter_in_the_api_is_a_400_naming_the_field(api_client):
    r = api_client.get("/api/v1/problems/", {"q": LONG})
    assert r.status_code == 400 and "at most 200 characters" in r.json()["q"][0]
    r = api_client.get("/api/v1/problems/", {"platform": "p" * 5000})
    assert r.status_code == 400 and "platform" in r.json()


@pytest.mark.parametrize(
    "params, field, words",
    [
        ({"weighted_score_min": "7", "weighted_score_max": "3"}, "weighted_score_max", "below the minimum"),
        ({"pass_rate_min": "0.9", "pass_rate_max": "0.1"}, "pass_rate_max", "below the minimum"),
        ({"pass_rate_max": "7"}, "pass_rate_max", "less than or equal to 1"),
        ({"algorithmic_thinking_min": "-4"}, "algorithmic_thinking_min", "greater than or equal to 0"),
        ({"edge_cases_max": "1e400"}, "edge_cases_max", ""),
        ({"selection": "1" + "0" * 30}, "selection", "less than or equal to"),
    ],
)
def test_score_ranges_are_validated_with_a_message(viewer_client, api_client, params, field, words):
    r = api_client.get("/api/v1/problems/", params)
    assert r.status_code == 400 and field in r.json()
    assert words in r.json()[field][0]
    page = viewer_client.get("/problems/", params)
    assert page.status_code == 200 and b"Some filters were ignored" in page.content
    assert words.encode() in page.content


def test_a_valid_range_still_filters(viewer_client, api_client):
    r = api_client.get("/api/v1/problems/", {"weighted_score_min": "4", "weighted_score_max": "6"})
    assert r.status_code == 200 and [p["title"] for p in r.json()["results"]] == ["Bounded sums"]
    r = api_client.get("/api/v1/problems/", {"weighted_score_min": "6"})
    assert r.status_code == 200 and r.json()["results"] == []


def test_workspace_forms_cap_free_text():
    form = ReviewForm(data={"version": 1, "decision": "accept", "comment": "c" * 6000})
    assert not form.is_valid() and "comment" in form.errors
    form = ReviewForm(data={"version": 1, "decision": "accept", "score_edge_cases": 11})
    assert not form.is_valid() and "score edge cases: Ensure this value is less than or equal to 10" in form.error_text()
    assert not SavedViewForm(data={"name": "v", "query": "q=" + LONG}).is_valid()
