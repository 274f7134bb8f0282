"""Review: leases hand each curator a different problem; reviews settle or escalate it.

Every function here is one user action: one transaction, one AuditEvent row in it.

* `review_lease_acquire` locks candidate problems with SELECT ... FOR UPDATE SKIP LOCKED and creates
  the ReviewLease row (one per problem — the unique key makes a second holder impossible); an
  expired lease is taken over.
* `review_submit` records a curator's accept/reject with adjusted scores. After
  REVIEWS_PER_PROBLEM reviews that agree the problem is accepted or rejected; when curators
  disagree, or a curator's adjusted weighted score is further than REVIEW_DISAGREEMENT_THRESHOLD
  from the prediction, it goes to `needs_adjudication`, where an adjudicator's review settles it.
* An edit made against an old `Problem.version` is refused (StaleVersionError).
* The queue can be scoped to a filter (a list query string or a saved view's) and hands out
  problems in a stated priority (QUEUE_PRIORITY): verified first, then where the model is least
  sure, then oldest.
* `review_undo_last` takes back one's own last decision while nobody has acted on the problem since.
"""
from __future__ import annotations

from datetime import timedelta
from itertools import combinations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, FloatField, IntegerField, Q, Value, When
from django.db.models.functions import Abs, Coalesce
from django.http import QueryDict
from django.utils import timezone

from curation.errors import DomainError
from curation.models import (
    DIMENSIONS,
    Prediction,
    PredictionStatus,
    Problem,
    Review,
    ReviewLease,
    ReviewStatus,
)
from curation.roles import user_has_role
from curation.services.audit import audit_event_record
from curation.services.rubrics import rubric_weights, scores_weighted

CURATOR_STATUSES = (ReviewStatus.UNREVIEWED, ReviewStatus.IN_REVIEW)
ADJUDICATION_STATUSES = (ReviewStatus.NEEDS_ADJUDICATION,)
DECISIONS = ("accept", "reject")
class ReviewError(DomainError):
    """A review action that cannot be done; the message is shown to the user as is."""


class StaleVersionError(ReviewError):
    pass


class LeaseError(ReviewError):
    pass


class ReviewPermissionError(ReviewError):
    pass


QUEUE_PRIORITY = (
    "verified problems first (then not yet verified, then those whose verification found a problem); "
    "within each, where the model is least sure — calibrated pass rate closest to 50% — first; then oldest first"
)


def review_queue_ordered(qs):
    """Order candidates by QUEUE_PRIORITY. A pass rate near 0.5 is where the difficulty model's
    easy/hard call is most uncertain, so a person's judgement there is worth the most. On
    PostgreSQL migration 0012 indexes exactly these expressions: change them together."""
    return qs.annotate(
        _verified_rank=Case(
            When(verification_status="verified", then=Value(0)),
            When(verification_status="unverified", then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        _certainty=Coalesce(Abs(F("calibrated_pass_rate") - Value(0.5)), Value(1.0), output_field=FloatField()),
    ).order_by("_verified_rank", "_certainty", "id")


def review_scope_filter(qs, scope: str):
    """Narrow a queryset to the problems a list query string matches ('' = everything)."""
    if not scope:
        return qs
    from curation.selectors import problem_filter

    fs = problem_filter(QueryDict(scope.lstrip("?")))
    if not fs.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in fs.errors.items())
        raise ReviewError(f"the queue's filter is not valid ({problems})")
    return qs.filter(pk__in=fs.qs.order_by().values("pk"))


def _statuses(adjudication: bool) -> tuple[str, ...]:
    return ADJUDICATION_STATUSES if adjudication else CURATOR_STATUSES


def _check_role(user, adjudication: bool) -> None:
    role = "adjudicator" if adjudication else "curator"
    if not user_has_role(user, role):
        raise ReviewPermissionError(f"this needs the {role} role")


def _problem_state(problem: Problem) -> dict:
    return {
        "review_status": problem.review_status,
        "version": problem.version,
        "weighted_score": problem.weighted_score,
        **{f"score_{dim}": getattr(problem, f"score_{dim}") for dim in DIMENSIONS},
    }


# --- Leases ------------------------------------------------------------------------------


def review_lease_acquire(
    *, user, adjudication: bool = False, exclude_ids=(), problem_id: int | None = None, scope: str = ""
) -> ReviewLease | None:
    """Give `user` a problem to review (their current one if they still hold it), or None when the
    queue is empty. Two callers can never get the same problem: candidates are locked with
    SKIP LOCKED and the lease row is unique per problem. `scope` is a list query string."""
    _check_role(user, adjudication)
    statuses = _statuses(adjudication)
    now = timezone.now()
    expires = now + timedelta(minutes=settings.REVIEW_LEASE_MINUTES)
    exclude_ids = [int(i) for i in exclude_ids]
    with transaction.atomic():
        held = list(
            ReviewLease.objects.select_for_update(of=("self",))
            .filter(user=user, expires_at__gt=now, problem__review_status__in=statuses)
            .order_by("expires_at")
        )
        for lease in held:
            if (problem_id is None or lease.problem_id == problem_id) and lease.problem_id not in exclude_ids:
                lease.expires_at = expires
                lease.save(update_fields=["expires_at"])
                return lease

        candidates = Problem.objects.filter(review_status__in=statuses).filter(
            Q(lease__isnull=True) | Q(lease__expires_at__lte=now) | Q(lease__user=user)
        )
        if not adjudication:
            candidates = candidates.exclude(
                pk__in=Review.objects.filter(reviewer=user, is_adjudication=False).values("problem_id")
            )
        if exclude_ids:
            candidates = candidates.exclude(pk__in=exclude_ids)
        if problem_id is not None:
            candidates = candidates.filter(pk=problem_id)
        else:
            candidates = review_scope_filter(candidates, scope)
        tried: list[int] = []
        for _attempt in range(10):
            # One row at a time: locking a batch would hide all of it from the other curators.
            pid = (
                review_queue_ordered(candidates.exclude(pk__in=tried))
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("id", flat=True)
                .first()
            )
            if pid is None:
                break
            tried.append(pid)
            previous = ReviewLease.objects.filter(problem_id=pid).select_related("user").first()
            if previous is not None:
                if previous.expires_at > now and previous.user_id != user.pk:
                    continue  # taken meanwhile
                previous.delete()
            try:
                with transaction.atomic():
                    lease = ReviewLease.objects.create(problem_id=pid, user=user, expires_at=expires)
            except IntegrityError:
                continue  # someone else's lease won the race for this row
            # One lease per user per queue: let go of the ones this replaces.
            ReviewLease.objects.filter(pk__in=[h.pk for h in held]).delete()
            audit_event_record(
                actor=user,
                action="review_lease_acquire",
                target=lease.problem,
                after={
                    "expires_at": expires.isoformat(),
                    "queue": "adjudication" if adjudication else "review",
                    "took_over_from": previous.user.username if previous is not None and previous.user_id != user.pk else None,
                },
            )
            return lease
    return None


def review_lease_release(*, user, problem_id: int) -> bool:
    with transaction.atomic():
        lease = ReviewLease.objects.select_for_update().filter(problem_id=problem_id, user=user).first()
        if lease is None:
            return False
        lease.delete()
        audit_event_record(actor=user, action="review_lease_release", target=Problem(pk=problem_id))
    return True


# --- Reviews -----------------------------------------------------------------------------


def _clean_scores(problem: Problem, scores: dict | None) -> dict[str, int]:
    """Only the dimensions the reviewer actually changed, each an integer 1-10."""
    adjusted: dict[str, int] = {}
    for dim, raw in (scores or {}).items():
        if dim not in DIMENSIONS:
            raise ReviewError(f"unknown dimension '{dim}'")
        if raw in (None, ""):
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ReviewError(f"{dim.replace('_', ' ')}: '{raw}' is not a number") from None
        if not value.is_integer() or not 1 <= value <= 10:
            raise ReviewError(f"{dim.replace('_', ' ')}: scores are whole numbers from 1 to 10")
        current = getattr(problem, f"score_{dim}")
        if current is None or round(current) != int(value):
            adjusted[dim] = int(value)
    return adjusted


def _predicted_weighted(problem: Problem) -> float | None:
    prediction = (
        Prediction.objects.filter(problem=problem, status=PredictionStatus.OK, weighted_score__isnull=False)
        .order_by("-created_at")
        .only("weighted_score")
        .first()
    )
    return prediction.weighted_score if prediction else problem.weighted_score


def _reviewer_weighted(problem: Problem, adjusted: dict, weights: dict) -> float | None:
    scores = problem.scores()
    scores.update(adjusted)
    return scores_weighted(scores, weights)


def _apply_scores(problem: Problem, adjusted_sets: list[dict], weights: dict) -> None:
    for dim in DIMENSIONS:
        values = [s[dim] for s in adjusted_sets if dim in s]
        if values:
            setattr(problem, f"score_{dim}", sum(values) / len(values))
    if any(adjusted_sets):
        new_weighted = scores_weighted(problem.scores(), weights)
        if new_weighted is not None:
            problem.weighted_score = new_weighted


def review_submit(
    *,
    user,
    problem_id: int,
    version: int,
    decision: str,
    reason: str = "",
    scores: dict | None = None,
    comment: str = "",
    adjudication: bool = False,
) -> Review:
    """Record one review (or an adjudication) and move the problem on. Refuses stale versions."""
    _check_role(user, adjudication)
    decision = (decision or "").strip().lower()
    if decision not in DECISIONS:
        raise ReviewError("choose accept or reject")
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ReviewError("a rejection needs a reason")
    now = timezone.now()
    with transaction.atomic():
        try:
            problem = Problem.objects.select_for_update().get(pk=problem_id)
        except Problem.DoesNotExist:
            raise ReviewError("this problem no longer exists") from None
        if int(version) != problem.version:
            raise StaleVersionError(
                f"This problem changed since you opened it (you saw version {version}, it is now version "
                f"{problem.version}). Your review was not saved: look at the current version and submit again."
            )
        lease = ReviewLease.objects.filter(problem=problem).select_related("user").first()
        if lease is not None and lease.user_id != user.pk and lease.expires_at > now:
            raise LeaseError(f"{lease.user.username} is reviewing this problem until {lease.expires_at:%H:%M} UTC")
        if problem.review_status not in _statuses(adjudication):
            raise ReviewError(
                f"this problem is {problem.get_review_status_display().lower()}; "
                + ("only problems that need adjudication can be adjudicated" if adjudication else "it is not waiting for review")
            )
        if not adjudication and Review.objects.filter(problem=problem, reviewer=user, is_adjudication=False).exists():
            raise ReviewError("you have already reviewed this problem; another curator must give the next review")

        adjusted = _clean_scores(problem, scores)
        weights = rubric_weights()
        before = _problem_state(problem)
        review = Review.objects.create(
            problem=problem,
            reviewer=user,
            decision=decision,
            reason=reason,
            adjusted_scores=adjusted,
            comment=(comment or "").strip(),
            is_adjudication=adjudication,
            problem_version=problem.version,
        )
        escalation: list[str] = []
        if adjudication:
            problem.review_status = ReviewStatus.ACCEPTED if decision == "accept" else ReviewStatus.REJECTED
            _apply_scores(problem, [adjusted], weights)
        else:
            reviews = list(Review.objects.filter(problem=problem, is_adjudication=False).order_by("created_at"))
            predicted = _predicted_weighted(problem)
            reviewer_scores = {r.pk: _reviewer_weighted(problem, r.adjusted_scores or {}, weights) for r in reviews}
            mine = reviewer_scores[review.pk]
            threshold = settings.REVIEW_DISAGREEMENT_THRESHOLD
            if adjusted and predicted is not None and mine is not None and abs(mine - predicted) > threshold:
                escalation.append(f"adjusted weighted score {mine:.2f} is {abs(mine - predicted):.2f} from the prediction {predicted:.2f}")
            for a, b in combinations(reviews, 2):
                if a.decision != b.decision:
                    escalation.append(f"{a.reviewer.username} chose {a.decision}, {b.reviewer.username} chose {b.decision}")
                sa, sb = reviewer_scores[a.pk], reviewer_scores[b.pk]
                if sa is not None and sb is not None and abs(sa - sb) > threshold:
                    escalation.append(f"weighted scores {sa:.2f} and {sb:.2f} differ by more than {threshold}")
            if escalation:
                problem.review_status = ReviewStatus.NEEDS_ADJUDICATION
            elif len(reviews) >= settings.REVIEWS_PER_PROBLEM:
                problem.review_status = ReviewStatus.ACCEPTED if decision == "accept" else ReviewStatus.REJECTED
                _apply_scores(problem, [r.adjusted_scores or {} for r in reviews], weights)
            else:
                problem.review_status = ReviewStatus.IN_REVIEW
        problem.version += 1
        problem.save(
            update_fields=["review_status", "version", "weighted_score", "updated_at"]
            + [f"score_{dim}" for dim in DIMENSIONS]
        )
        ReviewLease.objects.filter(problem=problem).delete()
        audit_event_record(
            actor=user,
            action="review_adjudicate" if adjudication else "review_submit",
            target=problem,
            before=before,
            after={
                **_problem_state(problem),
                "review_id": review.pk,
                "decision": decision,
                "reason": reason,
                "adjusted_scores": adjusted,
                "comment": review.comment,
                "escalation": escalation,
            },
        )
    return review


def review_undo_last(*, user, adjudication: bool = False) -> Problem:
    """Take back the user's own last decision in this queue: the review row goes, the problem gets
    the state it had before (scores, status) at a new version, and the user holds it again.
    Refused when anyone acted on the problem since (its version moved on)."""
    _check_role(user, adjudication)
    now = timezone.now()
    with transaction.atomic():
        review = (
            Review.objects.select_for_update()
            .filter(reviewer=user, is_adjudication=adjudication)
            .order_by("-created_at", "-pk")
            .first()
        )
        if review is None:
            raise ReviewError("you have no decision to undo")
        problem = Problem.objects.select_for_update().get(pk=review.problem_id)
        if problem.version != review.problem_version + 1:
            raise StaleVersionError(
                f"problem #{problem.pk} changed after your decision (version {review.problem_version + 1} → "
                f"{problem.version}); it can no longer be undone"
            )
        from curation.models import AuditEvent

        event = (
            AuditEvent.objects.filter(
                target_type="Problem", target_id=str(problem.pk),
                action="review_adjudicate" if adjudication else "review_submit", after__review_id=review.pk,
            ).first()
        )
        if event is None or not event.before:
            raise ReviewError("the state before this decision was not recorded, so it cannot be undone")
        current = _problem_state(problem)
        problem.review_status = event.before["review_status"]
        problem.weighted_score = event.before.get("weighted_score")
        for dim in DIMENSIONS:
            setattr(problem, f"score_{dim}", event.before.get(f"score_{dim}"))
        problem.version += 1
        problem.save(
            update_fields=["review_status", "version", "weighted_score", "updated_at"] + [f"score_{dim}" for dim in DIMENSIONS]
        )
        undone = {"review_id": review.pk, "decision": review.decision}
        review.delete()
        # The user lands back on the problem, holding it, so "previous" and "undo" are one step.
        ReviewLease.objects.filter(problem=problem).delete()
        ReviewLease.objects.filter(user=user, problem__review_status__in=_statuses(adjudication)).delete()
        ReviewLease.objects.create(problem=problem, user=user, expires_at=now + timedelta(minutes=settings.REVIEW_LEASE_MINUTES))
        audit_event_record(actor=user, action="review_undo", target=problem, before=current, after={**_problem_state(problem), **undone})
    return problem
