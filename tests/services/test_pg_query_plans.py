"""PostgreSQL only: the list's text search and the review queue's pick use the indexes made for
them (migrations 0011 and 0012). Their SQL must match those index expressions exactly; an edit to
either side that breaks the match would go unnoticed on a small database and cost ~0.3–7 s per
request at 100k problems (benchmarks/ui_latency.py). Sequential scans are switched off so that
the planner shows whether the index can serve the query at all."""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from curation.models import Problem, Review
from curation.selectors import problem_list
from curation.services.review import review_queue_ordered

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL indexes"),
]


def _plan(qs, *off: str) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        for setting in off:
            cur.execute(f"SET LOCAL {setting} = off")
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_sort = off")
        cur.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


def test_text_search_reads_the_stored_vector_and_the_external_id_index():
    from curation.models import Source

    source = Source.objects.create(name="plans")
    Problem.objects.create(source=source, external_id="p1", title="Trees", statement="A segment tree.", content_hash="h1")
    plan = _plan(problem_list(params={"q": "segment tree"}).order_by().values("pk"), "enable_indexscan")
    assert "to_tsvector" not in plan, plan
    # Every branch of the OR has an index: a bitmap over the three, no table scan.
    for index in ("curation_problem_search_vector", "curation_problem_tags", "curation_problem_external_id_trgm"):
        assert index in plan, plan
    assert "BitmapOr" in plan and "Seq Scan" not in plan, plan


def test_review_queue_pick_walks_its_index():
    user = get_user_model().objects.create_user(username="planner")
    candidates = Problem.objects.filter(review_status__in=["unreviewed", "in_review"]).exclude(
        pk__in=Review.objects.filter(reviewer=user, is_adjudication=False).values("problem_id"))
    plan = _plan(review_queue_ordered(candidates).values("pk")[:1])
    assert "curation_problem_review_queue" in plan, plan
