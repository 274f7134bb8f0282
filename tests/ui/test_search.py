"""Text search over title, statement and tags, and the tag filter — on whichever database the
suite runs (SQLite: substring fallback; PostgreSQL: full-text + trigram + jsonb, CI)."""
import pytest
from django.db import connection
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client, users):
    client.force_login(users["viewer"])
    return client


def _ids(viewer_client, **params):
    response = viewer_client.get(reverse("curation:problem_list"), params)
    assert response.status_code == 200
    return {p.pk for p in response.context["page"].rows}


def test_text_search_covers_statement_title_and_tags(viewer_client, make_problem):
    by_statement = make_problem(title="Plain", statement="Count the spanning trees of a graph.")
    by_title = make_problem(title="Segment tree beats", statement="Answer the queries.")
    by_tag = make_problem(title="Other", statement="Print a number.", tags=["bitmasks", "dp"])
    make_problem(title="Unrelated", statement="Nothing to see.", tags=["greedy"])
    assert _ids(viewer_client, q="spanning") == {by_statement.pk}
    assert _ids(viewer_client, q="segment") == {by_title.pk}
    assert _ids(viewer_client, q="bitmasks") == {by_tag.pk}
    assert _ids(viewer_client, tag="dp") == {by_tag.pk}
    assert _ids(viewer_client, tag="d") == set()  # a tag matches whole, not as a substring
    if connection.vendor == "postgresql":
        assert by_statement.pk in _ids(viewer_client, q="tree")  # stemming: trees → tree
        assert by_title.pk in _ids(viewer_client, q="Segmnet tree beats")  # trigram: a typo in the title


def test_min_above_max_is_explained(viewer_client, make_problem):
    make_problem()
    response = viewer_client.get(reverse("curation:problem_list"), {"weighted_score_min": "7", "weighted_score_max": "3"})
    assert b"the maximum (3" in response.content and b"is below the minimum (7" in response.content


def test_search_follows_an_edited_statement_and_works_inside_a_subquery(viewer_client, make_problem):
    """On PostgreSQL the searched text is a stored generated column: an edit is searchable at once;
    the search also holds when the list query is nested (bulk actions and snapshots select by it)."""
    from curation.models import Problem
    from curation.selectors import problem_list

    problem = make_problem(title="Plain", statement="Print a number.")
    assert _ids(viewer_client, q="hexagon") == set()
    Problem.objects.filter(pk=problem.pk).update(statement="Tile the hexagon.")
    assert _ids(viewer_client, q="hexagon") == {problem.pk}
    nested = Problem.objects.filter(pk__in=problem_list(params={"q": "hexagon"}).values("pk"))
    assert list(nested.values_list("pk", flat=True)) == [problem.pk]
