"""Every view checks its role: anonymous users go to the login page, users without the role get 403."""
import pytest
from django.urls import reverse

from curation.models import StageRun

pytestmark = pytest.mark.django_db

ORDER = ["viewer", "curator", "adjudicator", "admin"]


@pytest.fixture
def objects(make_problem, users):
    problem = make_problem()
    stage_run = StageRun.objects.create(stage="bulk", params={"query": ""})
    return {"problem": problem, "stage_run": stage_run}


def view_cases(objects):
    p = objects["problem"].pk
    r = objects["stage_run"].pk
    return [
        ("get", reverse("curation:home"), {}, "viewer"),
        ("get", reverse("curation:problem_list"), {}, "viewer"),
        ("get", reverse("curation:problem_detail", args=[p]), {}, "viewer"),
        ("post", reverse("curation:saved_view_save"), {"name": "v", "query": "bucket=easy"}, "viewer"),
        ("get", reverse("curation:stage_run_detail", args=[r]), {}, "viewer"),
        ("get", reverse("curation:dashboard"), {}, "viewer"),
        ("get", reverse("curation:review"), {}, "curator"),
        ("post", reverse("curation:review_next"), {}, "curator"),
        ("post", reverse("curation:review_submit", args=[p]), {"version": 1, "decision": "accept"}, "curator"),
        ("post", reverse("curation:review_take", args=[p]), {}, "curator"),
        ("post", reverse("curation:bulk_action"), {"action": "accept", "query": ""}, "curator"),
        ("get", reverse("curation:adjudicate"), {}, "adjudicator"),
        ("post", reverse("curation:adjudicate_next"), {}, "adjudicator"),
        ("post", reverse("curation:adjudicate_submit", args=[p]), {"version": 1, "decision": "accept"}, "adjudicator"),
        ("get", reverse("curation:pipeline"), {}, "admin"),
        ("post", reverse("curation:pipeline_stage"), {"stage": "process"}, "admin"),
        ("post", reverse("curation:pipeline_import"), {}, "admin"),
    ]


def test_anonymous_users_are_sent_to_login(client, objects):
    for method, url, data, _role in view_cases(objects):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_each_role_is_allowed_exactly_the_views_at_or_below_it(client, users, objects):
    for role in ["none"] + ORDER:
        client.force_login(users[role])
        level = ORDER.index(role) if role != "none" else -1
        for method, url, data, needed in view_cases(objects):
            response = getattr(client, method)(url, data)
            allowed = level >= ORDER.index(needed)
            if allowed:
                assert response.status_code != 403, (role, url, response.status_code)
                assert response.status_code < 500, (role, url)
            else:
                assert response.status_code == 403, (role, url, response.status_code)
        client.logout()


def test_login_page_and_login(client, users):
    response = client.get(reverse("login"))
    assert response.status_code == 200 and b"Log in" in response.content
    response = client.post(reverse("login"), {"username": "viewer", "password": "pw-viewer"})
    assert response.status_code == 302
    assert client.get(reverse("curation:problem_list")).status_code == 200
    bad = client.post(reverse("login"), {"username": "viewer", "password": "wrong"})
    assert b"didn&#x27;t match" in bad.content or b"didn't match" in bad.content
