import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from curation.models import AuditEvent, Problem, Review, ReviewLease
from curation.services.review import LeaseError, ReviewError, StaleVersionError, review_lease_acquire, review_submit


@pytest.mark.django_db
def test_two_curators_never_get_the_same_problem(users, make_problem):
    a, b = make_problem(), make_problem()
    lease1 = review_lease_acquire(user=users["curator"])
    lease2 = review_lease_acquire(user=users["curator2"])
    assert {lease1.problem_id, lease2.problem_id} == {a.id, b.id}
    # Asking again returns the lease one already holds, not a new problem.
    assert review_lease_acquire(user=users["curator"]).problem_id == lease1.problem_id
    # A third curator finds the queue empty: both problems are held.
    third = users["adjudicator"]
    assert review_lease_acquire(user=third) is None
    assert AuditEvent.objects.filter(action="review_lease_acquire").count() == 2


@pytest.mark.django_db
def test_expired_lease_can_be_taken_over(users, make_problem):
    p = make_problem()
    lease = review_lease_acquire(user=users["curator"])
    ReviewLease.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    taken = review_lease_acquire(user=users["curator2"])
    assert taken.problem_id == p.id and taken.user == users["curator2"]
    assert ReviewLease.objects.count() == 1
    event = AuditEvent.objects.filter(action="review_lease_acquire").order_by("-id").first()
    assert event.after["took_over_from"] == "curator"
    # The old holder may no longer submit while the new one holds it.
    with pytest.raises(LeaseError):
        review_submit(user=users["curator"], problem_id=p.id, version=p.version, decision="accept")


@pytest.mark.django_db(transaction=True)
def test_concurrent_acquisition_from_threads_gives_distinct_problems(make_user, make_problem):
    curators = [make_user(f"c{i}", "curator") for i in range(4)]
    for _ in range(3):
        make_problem()
    results, errors = {}, []
    barrier = threading.Barrier(len(curators))

    def work(user):
        try:
            barrier.wait()
            lease = review_lease_acquire(user=user)
            results[user.username] = lease.problem_id if lease else None
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in curators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    got = [pid for pid in results.values() if pid is not None]
    assert len(got) == 3 and len(set(got)) == 3  # three problems, three different holders, one left empty-handed
    assert list(results.values()).count(None) == 1
    assert ReviewLease.objects.count() == 3


@pytest.mark.django_db
def test_stale_version_is_refused_with_a_clear_message(client, users, make_problem):
    p = make_problem()
    client.force_login(users["curator"])
    client.post(reverse("curation:review_next"))
    assert ReviewLease.objects.get(problem=p).user == users["curator"]
    Problem.objects.filter(pk=p.pk).update(version=2)  # someone changed it meanwhile
    response = client.post(reverse("curation:review_submit", args=[p.pk]), {"version": 1, "decision": "accept"})
    assert response.status_code == 409
    assert b"This problem changed since you opened it" in response.content
    assert not Review.objects.exists()
    # The refused page carries the new version, so a resubmission goes through.
    assert b'name="version" value="2"' in response.content
    ok = client.post(reverse("curation:review_submit", args=[p.pk]), {"version": 2, "decision": "accept"})
    assert ok.status_code == 302
    assert Problem.objects.get(pk=p.pk).review_status == "accepted"


@pytest.mark.django_db
def test_accept_reject_adjust_and_comment_through_the_page(client, users, make_problem, settings):
    settings.REVIEWS_PER_PROBLEM = 1
    p1 = make_problem(scores=(5, 5, 5, 5, 5), weighted_score=5.0)
    p2 = make_problem(scores=(5, 5, 5, 5, 5), weighted_score=5.0)
    client.force_login(users["curator"])
    client.post(reverse("curation:review_next"))
    page = client.get(reverse("curation:review"))
    assert page.context["problem"].id == p1.id and b"Keyboard shortcuts" in page.content
    response = client.post(
        reverse("curation:review_submit", args=[p1.pk]),
        {"version": 1, "decision": "accept", "score_algorithmic_thinking": 6, "score_implementation": 5, "comment": "nice"},
    )
    assert response.status_code == 302
    p1.refresh_from_db()
    assert p1.review_status == "accepted" and p1.version == 2 and p1.score_algorithmic_thinking == 6
    review = Review.objects.get(problem=p1)
    assert review.adjusted_scores == {"algorithmic_thinking": 6} and review.comment == "nice"
    event = AuditEvent.objects.get(action="review_submit", target_id=str(p1.pk))
    assert event.before["review_status"] == "unreviewed" and event.after["review_status"] == "accepted"
    # The next problem was handed out straight away.
    assert ReviewLease.objects.get(user=users["curator"]).problem_id == p2.id
    # Reject needs a reason.
    refused = client.post(reverse("curation:review_submit", args=[p2.pk]), {"version": 1, "decision": "reject"})
    assert refused.status_code == 400 and b"a rejection needs a reason" in refused.content
    bad_score = client.post(reverse("curation:review_submit", args=[p2.pk]), {"version": 1, "decision": "accept", "score_mathematics": 11})
    assert bad_score.status_code == 400
    client.post(reverse("curation:review_submit", args=[p2.pk]), {"version": 1, "decision": "reject", "reason": "statement incomplete"})
    p2.refresh_from_db()
    assert p2.review_status == "rejected"
    assert Review.objects.get(problem=p2).reason == "statement incomplete"


@pytest.mark.django_db
def test_reviews_per_problem_and_disagreement_goes_to_adjudication(users, make_problem, settings):
    settings.REVIEWS_PER_PROBLEM = 2
    p = make_problem(scores=(5, 5, 5, 5, 5), weighted_score=5.0)
    review_lease_acquire(user=users["curator"])
    review_submit(user=users["curator"], problem_id=p.id, version=1, decision="accept")
    p.refresh_from_db()
    assert p.review_status == "in_review"
    # The same curator cannot review it twice; another one gets it.
    assert review_lease_acquire(user=users["curator"]) is None
    assert review_lease_acquire(user=users["curator2"]).problem_id == p.id
    review_submit(user=users["curator2"], problem_id=p.id, version=2, decision="reject", reason="too easy")
    p.refresh_from_db()
    assert p.review_status == "needs_adjudication"
    escalation = AuditEvent.objects.filter(action="review_submit").order_by("-id").first().after["escalation"]
    assert any("chose accept" in e for e in escalation)
    # Curators cannot settle it; adjudicators can, through their queue.
    with pytest.raises(ReviewError):
        review_lease_acquire(user=users["curator"], adjudication=True)
    lease = review_lease_acquire(user=users["adjudicator"], adjudication=True)
    assert lease.problem_id == p.id
    review_submit(user=users["adjudicator"], problem_id=p.id, version=3, decision="reject", reason="agreed: too easy", adjudication=True)
    p.refresh_from_db()
    assert p.review_status == "rejected"
    assert AuditEvent.objects.filter(action="review_adjudicate", target_id=str(p.id)).exists()


@pytest.mark.django_db
def test_agreeing_reviews_settle_the_problem(users, make_problem, settings):
    settings.REVIEWS_PER_PROBLEM = 2
    p = make_problem(scores=(5, 5, 5, 5, 5), weighted_score=5.0)
    review_submit(user=users["curator"], problem_id=p.id, version=1, decision="accept", scores={"mathematics": 6})
    review_submit(user=users["curator2"], problem_id=p.id, version=2, decision="accept", scores={"mathematics": 7})
    p.refresh_from_db()
    assert p.review_status == "accepted" and p.score_mathematics == 6.5


@pytest.mark.django_db
def test_score_far_from_prediction_goes_to_adjudication(users, make_problem, settings):
    settings.REVIEWS_PER_PROBLEM = 1
    settings.REVIEW_DISAGREEMENT_THRESHOLD = 2.0
    p = make_problem(scores=(3, 3, 3, 3, 3), weighted_score=3.0)
    review_submit(
        user=users["curator"], problem_id=p.id, version=1, decision="accept",
        scores={"algorithmic_thinking": 9, "implementation": 9, "mathematics": 9, "data_structures": 9, "edge_cases": 9},
    )
    p.refresh_from_db()
    assert p.review_status == "needs_adjudication"
    # A small adjustment stays within the threshold.
    q = make_problem(scores=(3, 3, 3, 3, 3), weighted_score=3.0)
    review_submit(user=users["curator"], problem_id=q.id, version=1, decision="accept", scores={"edge_cases": 5})
    q.refresh_from_db()
    assert q.review_status == "accepted"


@pytest.mark.django_db
def test_adjudication_page_and_take_from_problem_page(client, users, make_problem):
    p = make_problem(review_status="needs_adjudication")
    client.force_login(users["curator"])
    assert client.get(reverse("curation:adjudicate")).status_code == 403
    assert client.post(reverse("curation:review_take", args=[p.pk])).status_code == 302
    assert not ReviewLease.objects.exists()
    client.force_login(users["adjudicator"])
    response = client.post(reverse("curation:review_take", args=[p.pk]))
    assert response["Location"] == reverse("curation:adjudicate")
    page = client.get(reverse("curation:adjudicate"))
    assert page.context["problem"].id == p.id
    client.post(reverse("curation:adjudicate_submit", args=[p.pk]), {"version": 1, "decision": "accept"})
    assert Problem.objects.get(pk=p.pk).review_status == "accepted"


@pytest.mark.django_db
def test_skip_moves_to_the_next_problem(client, users, make_problem):
    a, b = make_problem(), make_problem()
    client.force_login(users["curator"])
    client.post(reverse("curation:review_next"))
    assert ReviewLease.objects.get().problem_id == a.id
    client.post(reverse("curation:review_next"), {"skip": a.id})
    assert ReviewLease.objects.get().problem_id == b.id
    assert AuditEvent.objects.filter(action="review_lease_release").count() == 1


@pytest.mark.django_db
def test_weighted_score_uses_rubric_weights():
    from curation.models import DIMENSIONS, DifficultyRubric
    from curation.services.rubrics import scores_weighted

    scores = {d: 5 for d in DIMENSIONS}
    assert scores_weighted(scores) == pytest.approx(5.0)  # the default rubric while none is stored
    assert scores_weighted({"algorithmic_thinking": 5}) is None
    DifficultyRubric.objects.create(version="maths-only", is_active=True,
                                    weights={d: 1.0 if d == "mathematics" else 0.0 for d in DIMENSIONS})
    assert scores_weighted({**scores, "mathematics": 9}) == pytest.approx(9.0)
