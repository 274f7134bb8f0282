import datetime

import pytest
from django.urls import reverse

from curation.models import Prediction, DifficultyRubric, Problem, ReferenceSolution, SavedView, Source, TestCase, AuditEvent
from curation import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client, users):
    client.force_login(users["viewer"])
    return client


def ids_in(response):
    return [p.id for p in response.context["page"].rows]


def test_filters_each_narrow_the_list(viewer_client, make_problem):
    other = Source.objects.create(name="othersrc")
    a = make_problem(title="Two sum", platform="leetcode", io_format="functional", bucket="easy", weighted_score=2.0,
                     scores=(2, 2, 2, 2, 2), contest_date=datetime.date(2023, 1, 5), verification_status="verified")
    b = make_problem(title="Segment tree beats", platform="codeforces", bucket="hard", weighted_score=8.5,
                     scores=(9, 8, 7, 9, 8), contest_date=datetime.date(2024, 6, 1), is_duplicate=True, process_status="ok")
    c = make_problem(source=other, title="Flows", platform="atcoder", is_contaminated=True, review_status="accepted")
    url = reverse("curation:problem_list")
    assert set(ids_in(viewer_client.get(url))) == {a.id, b.id, c.id}
    cases = {
        "q=segment": {b.id},
        "source=othersrc": {c.id},
        "platform=leetcode": {a.id},
        "io_format=functional": {a.id},
        "bucket=hard": {b.id},
        "verification_status=verified": {a.id},
        "process_status=ok": {b.id},
        "is_duplicate=true": {b.id},
        "is_contaminated=true": {c.id},
        "reviewed=true": {c.id},
        "reviewed=false": {a.id, b.id},
        "algorithmic_thinking_min=5": {b.id},
        "edge_cases_max=3": {a.id},
        "weighted_score_min=5": {b.id},
        "contest_date_after=2024-01-01": {b.id},
        "contest_date_before=2023-12-31": {a.id},
        "bucket=hard&platform=leetcode": set(),
    }
    for query, expected in cases.items():
        assert set(ids_in(viewer_client.get(f"{url}?{query}"))) == expected, query


def test_sorting_and_pagination(viewer_client, make_problem):
    made = [make_problem(weighted_score=float(i % 10)) for i in range(120)]
    url = reverse("curation:problem_list")
    first = viewer_client.get(url)
    assert ids_in(first) == [p.id for p in made[:50]]
    assert first.context["page"].count == 120 and not first.context["page"].count_capped
    third = viewer_client.get(url + "?page=3")
    assert ids_in(third) == [p.id for p in made[100:]]
    assert not third.context["page"].has_next
    by_score = viewer_client.get(url + "?ordering=-weighted_score")
    scores = [p.weighted_score for p in by_score.context["page"].rows]
    assert scores == sorted(scores, reverse=True)
    # Pagination links keep the filters and the ordering.
    assert b"ordering=-weighted_score&amp;page=2" in by_score.content


def test_counts_are_capped(make_problem, monkeypatch):
    for _ in range(12):
        make_problem()
    monkeypatch.setattr(selectors, "COUNT_CAP", 10)
    count, capped = selectors.count_capped(Problem.objects.all(), cap=10)
    assert (count, capped) == (10, True)
    page = selectors.problem_page(Problem.objects.order_by("id"), page=1, per_page=5)
    assert page.count_capped and page.rows and page.has_next and page.num_pages is None
    last = selectors.problem_page(Problem.objects.order_by("id"), page=3, per_page=5)
    assert len(last.rows) == 2 and not last.has_next


def test_htmx_request_gets_only_the_results_partial(viewer_client, make_problem):
    make_problem(title="Needle")
    url = reverse("curation:problem_list") + "?q=needle"
    full = viewer_client.get(url)
    assert b"<html" in full.content and b'id="filter-form"' in full.content
    assert b'hx-push-url="true"' in full.content and b'hx-get="/problems/"' in full.content
    partial = viewer_client.get(url, headers={"HX-Request": "true", "HX-Target": "results"})
    assert partial.status_code == 200
    assert b"<html" not in partial.content and b'id="filter-form"' not in partial.content
    assert b"Needle" in partial.content and b"1 problem" in partial.content
    # A history-restore request gets the whole page back.
    restore = viewer_client.get(url, headers={"HX-Request": "true", "HX-Target": "results", "HX-History-Restore-Request": "true"})
    assert b"<html" in restore.content


def test_invalid_filter_value_is_reported_not_fatal(viewer_client, make_problem):
    make_problem()
    response = viewer_client.get(reverse("curation:problem_list") + "?bucket=impossible&weighted_score_min=abc")
    assert response.status_code == 200
    assert b"Some filters were ignored" in response.content


def test_saved_views_are_per_user(client, users, make_problem):
    make_problem(bucket="hard")
    client.force_login(users["viewer"])
    response = client.post(reverse("curation:saved_view_save"), {"name": "Hard ones", "query": "bucket=hard&page=3&q="})
    assert response.status_code == 302 and response["Location"].endswith("?bucket=hard")
    view = SavedView.objects.get(user=users["viewer"], name="Hard ones")
    assert view.query == "bucket=hard"
    # Saving under the same name is refused unless "replace" is ticked — never a silent overwrite.
    refused = client.post(reverse("curation:saved_view_save"), {"name": "Hard ones", "query": "bucket=easy"}, follow=True)
    assert "already have a view named" in refused.content.decode()
    assert SavedView.objects.get(user=users["viewer"]).query == "bucket=hard"
    client.post(reverse("curation:saved_view_save"), {"name": "Hard ones", "query": "bucket=hard&platform=codeforces", "overwrite": "on"})
    assert SavedView.objects.filter(user=users["viewer"]).count() == 1
    assert SavedView.objects.get(user=users["viewer"]).query == "bucket=hard&platform=codeforces"
    page = client.get(reverse("curation:problem_list"))
    assert b"Hard ones" in page.content and b"?bucket=hard&amp;platform=codeforces" in page.content
    assert AuditEvent.objects.filter(action__startswith="saved_view_").count() == 2
    # Another user neither sees nor deletes it.
    client.force_login(users["curator"])
    assert b"Hard ones" not in client.get(reverse("curation:problem_list")).content
    assert client.post(reverse("curation:saved_view_delete", args=[view.pk])).status_code == 404
    client.force_login(users["viewer"])
    assert client.post(reverse("curation:saved_view_delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.exists()


def test_problem_page_shows_everything_and_neutralises_scripts(viewer_client, make_problem):
    p = make_problem(
        statement='Find $x_i^2$.\n\n<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> [a](javascript:alert(1))',
        weighted_score=6.2, calibrated_pass_rate=0.31, bucket="medium", scores=(7, 5, 4, 6, 6),
    )
    TestCase.objects.create(problem=p, ordinal=0, input="1 2\n", output="3\n", kind="sample", size_bytes=8)
    TestCase.objects.create(problem=p, ordinal=1, input="9" * 5000, output="1", kind="hidden", size_bytes=5001)
    ReferenceSolution.objects.create(problem=p, code="print(sum(map(int, input().split())))", language="python3")
    rubric = DifficultyRubric.objects.create(version="t1")
    Prediction.objects.create(problem=p, rubric=rubric, predictor="features", model="m", content_hash="x", score_algorithmic_thinking=7,
                              weighted_score=6.0, reasons={"algorithmic_thinking": "needs a clever greedy"})
    response = viewer_client.get(reverse("curation:problem_detail", args=[p.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>window.__xss" not in html and "onerror" not in html and "javascript:alert" not in html
    assert "$x_i^2$" in html  # maths left intact for KaTeX
    assert "<details open" in html and "Sample 0" in html and "Hidden 1" in html
    assert "Truncated" in html  # the big hidden test is cut
    assert 'class="nb">print' in html or '<span class="nb">sum' in html  # highlighted
    assert "needs a clever greedy" in html and "31%" in html and "medium" in html
    assert viewer_client.get(reverse("curation:problem_detail", args=[999999])).status_code == 404


def test_saved_views_keep_the_sort(client, users, make_problem):
    client.force_login(users["viewer"])
    client.post(reverse("curation:saved_view_save"), {"name": "By score", "query": "bucket=hard", "ordering": "-weighted_score"})
    assert SavedView.objects.get(name="By score").query == "bucket=hard&ordering=-weighted_score"
    refused = client.post(reverse("curation:saved_view_save"), {"name": "Odd", "query": "", "ordering": "statement"}, follow=True)
    assert "unknown sort" in refused.content.decode() and not SavedView.objects.filter(name="Odd").exists()


def test_sort_headers_and_pager_drive_the_one_filter_form(viewer_client, make_problem):
    for _ in range(55):
        make_problem()
    html = viewer_client.get(reverse("curation:problem_list"), {"bucket": "", "ordering": "-weighted_score"}).content.decode()
    form = html.split('id="filter-form"')[1].split(">")[0]
    assert 'hx-sync="this:replace"' in form
    assert 'data-sort="weighted_score"' in html  # toggles the current descending sort
    assert 'data-page="2"' in html and 'hx-get="?' not in html  # no second request path beside the form
    assert '<input type="hidden" name="page" value="">' in html


def test_sortable_headers_say_their_sort_state_and_counts_have_a_live_region(viewer_client, make_problem):
    make_problem()
    html = viewer_client.get(reverse("curation:problem_list"), {"ordering": "-weighted_score"}).content.decode()
    assert 'aria-sort="descending"><a href' in html and 'aria-sort="none"><a href' in html
    assert 'id="result-live" class="visually-hidden" role="status" aria-live="polite"' in html
