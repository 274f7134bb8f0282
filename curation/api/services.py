"""The one write the API makes on problems itself: a curator's label and score edit.

(Kept here because the brief gave this package to the API; it belongs beside the other problem
services in `curation/services/` when that module exists.)"""
from __future__ import annotations

from django.db import transaction
from django.db.models import F

from curation.errors import ConflictError
from curation.models import DIMENSIONS, Problem
from curation.services.audit import audit_event_record
from curation.services.rubrics import scores_weighted


class ProblemVersionConflict(ConflictError):
    def __init__(self, current_version: int):
        super().__init__(f"the problem changed (version {current_version}); reload and try again", field="version")
        self.current_version = current_version


def _weighted(values: dict) -> float | None:
    score = scores_weighted({dim: values.get(f"score_{dim}") for dim in DIMENSIONS})
    return None if score is None else round(score, 4)


def problem_labels_update(*, problem_id: int, user, version: int, changes: dict) -> Problem:
    """Change labels/scores if the problem is still at `version`; bumps the version.
    When dimension scores change and no weighted_score is given, it is recomputed."""
    with transaction.atomic():
        problem = Problem.objects.select_for_update().get(pk=problem_id)
        if problem.version != version:
            raise ProblemVersionConflict(problem.version)
        before = {name: getattr(problem, name) for name in changes}
        values = {f"score_{dim}": getattr(problem, f"score_{dim}") for dim in DIMENSIONS}
        values.update({k: v for k, v in changes.items() if k.startswith("score_")})
        if any(k.startswith("score_") for k in changes) and "weighted_score" not in changes:
            changes["weighted_score"] = _weighted(values)
            before.setdefault("weighted_score", problem.weighted_score)
        updated = Problem.objects.filter(pk=problem_id, version=version).update(**changes, version=F("version") + 1)
        if not updated:  # pragma: no cover - the row lock makes this unreachable
            raise ProblemVersionConflict(Problem.objects.get(pk=problem_id).version)
        problem.refresh_from_db()
        audit_event_record(actor=user, action="problem_labels_update", target=problem, before=before,
                           after={**{k: getattr(problem, k) for k in changes}, "version": problem.version})
    return problem
