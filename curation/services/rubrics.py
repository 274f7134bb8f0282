"""The difficulty rubric as stored: the active `DifficultyRubric` row (looked up here only, and
created on first use), its pure `Rubric`, its weights, and the one weighted score of a set of
dimension scores (`scores_weighted`). Prediction, calibration, review and the API's score edits
all ask here."""
from __future__ import annotations

from collections.abc import Mapping

from curation.difficulty.rubric import DEFAULT_RUBRIC, Rubric, weighted_mean
from curation.errors import DomainError
from curation.models import DIMENSIONS, DifficultyRubric


class DifficultyError(DomainError):
    """A request the difficulty stage cannot serve (no model trained, no data to calibrate...)."""


def rubric_current() -> DifficultyRubric | None:
    """The active rubric row, if any (a read: nothing is created)."""
    return DifficultyRubric.objects.filter(is_active=True).order_by("-created_at").first()


def rubric_active() -> DifficultyRubric:
    """The active rubric row; the default rubric (v1) is created on first use."""
    row = rubric_current()
    if row is None:
        row, _ = DifficultyRubric.objects.get_or_create(
            version=DEFAULT_RUBRIC.version,
            defaults={"dimensions": {d.key: d.description for d in DEFAULT_RUBRIC.dimensions},
                      "weights": dict(DEFAULT_RUBRIC.weights), "is_active": True},
        )
    return row


def rubric_core(row: DifficultyRubric) -> Rubric:
    return DEFAULT_RUBRIC.with_weights(row.weights, row.version)


def rubric_weights() -> dict[str, float]:
    """The active rubric's weights; the default ones while no complete rubric is stored."""
    row = rubric_current()
    weights = dict(row.weights) if row and row.weights else {}
    return weights if set(weights) == set(DIMENSIONS) else dict(DEFAULT_RUBRIC.weights)


def scores_weighted(scores: Mapping[str, float | None], weights: Mapping[str, float] | None = None) -> float | None:
    """The weighted score of five dimension scores (None while any is missing), under `weights`
    or the active rubric's."""
    if any(scores.get(dim) is None for dim in DIMENSIONS):
        return None
    return weighted_mean(scores, weights or rubric_weights())
