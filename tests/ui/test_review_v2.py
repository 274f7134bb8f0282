"""Review v2: blind double review, adjudication side by side, scoped and prioritised queues,
undo of one's own last decision, the review pane's evidence, read-only stale forms."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from curation.models import AuditEvent, Prediction, Problem, ReferenceSolution, Review, ReviewLease, SavedView, TestCase
from curation.services import review as review_services
from curation.services.review import ReviewError, StaleVersionError, review_lease_acquire, review_submit, review_undo_last

pytestmark = pytest.mark.django_db
DIMS = ("algorithmic_thinking", "implementation", "mathematics", "data_structures", "edge_cases")


def test_double_review_is_blind_until_settled(client, users, make_problem, settings):
    settings.REVIEWS_PER_PROBLEM = 2
    p = make_problem(scores=[5, 5, 5, 5, 5], weighted_score=5.0)
    review_lease_acquire(user=users["curator"])
    review_submit(user=users["curator"], problem_id=p.pk, version=p.version, decision="accept", comment="first-secret-comment")
    # The second curator's pane and the problem page show neither decision nor comment, only that one is hidden.
    client.force_login(users["curator2"])
    client.post(reverse("curation:review_next"))
    pane = client.get(reverse("curation:review"))
    assert pane.context["problem"].pk == p.pk
    assert pane.context["reviews"] == [] and pane.context["hidden_reviews"] == 1
    assert b"first-secret-comment" not in pane.content and b'id="hidden-reviews"' in pane.content
    page = client.get(reverse("curation:problem_detail", args=[p.pk]))
    assert b"first-secret-comment" not in page.content and page.context["hidden_reviews"] == 1
    api = client.get("/api/v1/reviews/", {"problem": p.pk})
    assert api.status_code == 200 and api.json()["results"] == []
    # The author still sees their own review.
    client.force_login(users["curator"])
    assert b"first-secret-comment" in client.get(reverse("curation:problem_detail", args=[p.pk])).content
    # Settled: everyone sees both.
    p.refresh_from_db()
    review_submit(user=users["curator2"], problem_id=p.pk, version=p.version, decision="accept", comment="second")
    client.force_login(users["viewer"])
    page = client.get(reverse("curation:problem_detail", args=[p.pk]))
    assert len(page.context["reviews"]) == 2 and page.context["hidden_reviews"] == 0
    assert len(client.get("/api/v1/reviews/", {"problem": p.pk}).json()["results"]) == 2


def test_adjudication_side_by_side_without_prefilled_scores(client, users, make_problem, settings):
    settings.REVIEWS_PER_PROBLEM = 2
    p = make_problem(scores=[5, 5, 5, 5, 5], weighted_score=5.0)
    from curation.models import DifficultyRubric

    Prediction.objects.create(
        problem=p, rubric=DifficultyRubric.objects.create(version="r-sbs"), predictor="llm", model="m1", status="ok", weighted_score=5.0, **{f"score_{d}": 5.0 for d in DIMS}
    )
    review_lease_acquire(user=users["curator"])
    review_submit(user=users["curator"], problem_id=p.pk, version=p.version, decision="accept", scores={"implementation": 9}, comment="fine")
    p.refresh_from_db()
    review_lease_acquire(user=users["curator2"])
    review_submit(user=users["curator2"], problem_id=p.pk, version=p.version, decision="reject", reason="wrong tests")
    p.refresh_from_db()
    assert p.review_status == "needs_adjudication"
    client.force_login(users["adjudicator"])
    client.post(reverse("curation:adjudicate_next"))
    pane = client.get(reverse("curation:adjudicate"))
    sbs = pane.context["side_by_side"]
    assert [c["label"] for c in sbs["columns"]] == ["curator", "curator2", "model · llm m1"]
    assert [c["decision"] for c in sbs["columns"]] == ["accept", "reject", ""]
    impl = next(r for r in sbs["rows"] if r["dimension"] == "implementation")
    assert impl["cells"] == [9, None, 5.0]
    html = pane.content.decode()
    assert "Model prediction" in html and "Curator curator2" in html and "wrong tests" in html
    # No pre-filled scores for the adjudicator: every score field starts empty.
    for dim in DIMS:
        assert f'name="score_{dim}" id="id_score_{dim}" value=""' in html
    assert all(row["value"] == "" for row in pane.context["score_rows"])


def test_queue_scoped_to_a_saved_view_and_ordered_by_the_stated_priority(client, users, make_problem):
    unverified_sure = make_problem(bucket="hard", calibrated_pass_rate=0.05)
    errored = make_problem(bucket="hard", verification_status="error", calibrated_pass_rate=0.5)
    verified_sure = make_problem(bucket="hard", verification_status="verified", calibrated_pass_rate=0.95)
    verified_unsure = make_problem(bucket="hard", verification_status="verified", calibrated_pass_rate=0.45)
    outside = make_problem(bucket="easy", verification_status="verified", calibrated_pass_rate=0.5)
    view = SavedView.objects.create(user=users["curator"], name="hard ones", query="bucket=hard")
    client.force_login(users["curator"])
    response = client.get(reverse("curation:review"), {"view": view.pk})
    assert response.status_code == 302 and client.session["review_scope"] == "bucket=hard"
    page = client.get(reverse("curation:review"))
    assert b"bucket=hard" in page.content and b"verified problems first" in page.content
    order = []
    for _ in range(5):
        client.post(reverse("curation:review_next"), {"skip": order[-1] if order else ""})
        lease = ReviewLease.objects.filter(user=users["curator"]).first()
        if lease is None or lease.problem_id in order:
            break
        order.append(lease.problem_id)
    assert order == [verified_unsure.pk, verified_sure.pk, unverified_sure.pk, errored.pk]
    assert outside.pk not in order
    # Clearing the scope lets the queue take everything again.
    client.get(reverse("curation:review"), {"scope": ""})
    assert client.session["review_scope"] == ""
    # An invalid scope is refused with the reason.
    response = client.get(reverse("curation:review"), {"scope": "bucket=nonsense"}, follow=True)
    assert b"not valid" in response.content


def test_undo_own_last_decision_reopens_the_problem(client, users, make_problem):
    p = make_problem(scores=[5, 5, 5, 5, 5], weighted_score=5.0)
    client.force_login(users["curator"])
    client.post(reverse("curation:review_next"))
    client.post(
        reverse("curation:review_submit", args=[p.pk]),
        {"version": p.version, "decision": "accept", "score_implementation": "8"},
    )
    p.refresh_from_db()
    assert p.review_status == "accepted" and p.score_implementation == 8
    page = client.get(reverse("curation:review"))
    assert b'id="undo-button"' in page.content and page.context["last_decision"].problem_id == p.pk
    response = client.post(reverse("curation:review_undo"))
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.review_status == "unreviewed" and p.score_implementation == 5 and p.version == 3
    assert not Review.objects.filter(problem=p).exists()
    assert ReviewLease.objects.get(problem=p).user == users["curator"]  # back on it
    assert AuditEvent.objects.filter(action="review_undo", target_id=str(p.pk)).count() == 1
    assert client.get(reverse("curation:review")).context["problem"].pk == p.pk
    with pytest.raises(ReviewError, match="no decision"):
        review_undo_last(user=users["curator"])


def test_undo_is_refused_once_someone_acted_on_the_problem(users, make_problem):
    p = make_problem()
    review_lease_acquire(user=users["curator"])
    review_submit(user=users["curator"], problem_id=p.pk, version=p.version, decision="accept")
    Problem.objects.filter(pk=p.pk).update(version=p.version + 5)
    with pytest.raises(StaleVersionError, match="can no longer be undone"):
        review_undo_last(user=users["curator"])
    assert Review.objects.filter(problem=p).count() == 1


def test_review_pane_shows_the_evidence(client, users, make_problem):
    from curation.models import VerificationRun, Verdict

    p = make_problem()
    TestCase.objects.create(problem=p, ordinal=1, kind="sample", input="1 2", output="3", size_bytes=4)
    TestCase.objects.create(problem=p, ordinal=2, kind="hidden", input="HIDDEN-INPUT-7", output="8", size_bytes=16)
    sol = ReferenceSolution.objects.create(problem=p, ordinal=1, language="python", code="print(SOLUTION_MARKER)")
    run = VerificationRun.objects.create(problem=p, outcome="tests_inconsistent")
    Verdict.objects.create(verification_run=run, solution=sol, test=p.tests.get(ordinal=2), verdict="RE", diff="Traceback: ZeroDivisionError")
    other = make_problem(title="Twin problem")
    from curation.models import DuplicateCluster

    cluster = DuplicateCluster.objects.create(method="near", canonical=other, size=2)
    Problem.objects.filter(pk__in=[p.pk, other.pk]).update(duplicate_cluster=cluster)
    client.force_login(users["curator"])
    client.post(reverse("curation:review_take", args=[p.pk]))
    html = client.get(reverse("curation:review")).content.decode()
    assert "HIDDEN-INPUT-7" in html and '<details class="test">' in html  # hidden tests: collapsed, expandable
    assert "SOLUTION_MARKER" in html
    assert "ZeroDivisionError" in html and 'id="verdict-details"' in html
    assert "Twin problem" in html and 'id="overlaps"' in html


def test_a_stale_lease_makes_the_form_read_only_with_one_message(client, users, make_problem):
    p = make_problem()
    client.force_login(users["curator"])
    client.post(reverse("curation:review_next"))
    ReviewLease.objects.filter(problem=p).update(expires_at=timezone.now() - timedelta(minutes=1))
    review_lease_acquire(user=users["curator2"])  # takes over the expired lease
    response = client.post(reverse("curation:review_submit", args=[p.pk]), {"version": p.version, "decision": "accept"})
    assert response.status_code == 409
    html = response.content.decode()
    assert response.context["read_only"] is True
    assert html.count('role="alert"') == 1 and "curator2 is reviewing this problem now" in html
    assert "yours until" not in html and 'id="accept-button"' not in html
    assert '<fieldset class="plain" disabled>' in html
