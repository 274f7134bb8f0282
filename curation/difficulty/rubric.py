"""The difficulty rubric: five weighted dimensions, each scored 1-10 with a one-line reason.

Pure Python (no Django). A :class:`Rubric` is immutable and validated on construction; a refit of
the weights produces a new rubric with a new version string (see ``Rubric.with_weights``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

# The dimension names are the project's vocabulary (models and exports use the same ones).
from curation.vocabulary import (
    ALGORITHMIC_THINKING,
    DATA_STRUCTURES,
    EDGE_CASES,
    IMPLEMENTATION,
    MATHEMATICS,
)
from curation.vocabulary import DIMENSIONS as DIMENSION_KEYS

SCORE_MIN = 1
SCORE_MAX = 10


class RubricError(ValueError):
    """An invalid rubric or an invalid score mapping."""


@dataclass(frozen=True)
class Dimension:
    key: str
    name: str
    description: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "name": self.name, "description": self.description}


DEFAULT_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        ALGORITHMIC_THINKING,
        "Algorithmic thinking",
        "How non-obvious the key idea is: 1 = direct simulation, 10 = a deep insight or an "
        "uncommon technique few would find.",
    ),
    Dimension(
        IMPLEMENTATION,
        "Implementation",
        "Length and fiddliness of a correct program: 1 = a few lines, 10 = long, intricate code "
        "with many details to get right.",
    ),
    Dimension(
        MATHEMATICS,
        "Mathematics",
        "Depth of mathematics needed: proofs, number theory, combinatorics, probability, "
        "geometry: 1 = none, 10 = research-level reasoning.",
    ),
    Dimension(
        DATA_STRUCTURES,
        "Data structures",
        "How advanced the data structures needed are: 1 = arrays only, 10 = heavy structures "
        "(persistent/segment trees with lazy propagation, link-cut trees, suffix structures).",
    ),
    Dimension(
        EDGE_CASES,
        "Edge cases",
        "Traps: corner cases, floating-point precision, integer overflow, tight time or memory "
        "limits: 1 = none, 10 = many subtle traps.",
    ),
)

DEFAULT_WEIGHTS: dict[str, float] = {
    ALGORITHMIC_THINKING: 0.30,
    IMPLEMENTATION: 0.20,
    MATHEMATICS: 0.15,
    DATA_STRUCTURES: 0.15,
    EDGE_CASES: 0.20,
}

_WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Rubric:
    """A versioned rubric: the dimensions (ordered) and their weights (non-negative, sum 1)."""

    version: str
    dimensions: tuple[Dimension, ...] = DEFAULT_DIMENSIONS
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    def __post_init__(self) -> None:
        if not self.version:
            raise RubricError("rubric version must not be empty")
        dims = tuple(self.dimensions)
        object.__setattr__(self, "dimensions", dims)
        keys = [d.key for d in dims]
        if len(set(keys)) != len(keys):
            raise RubricError(f"duplicate dimension keys: {keys}")
        if not keys:
            raise RubricError("a rubric needs at least one dimension")
        weights = {str(k): float(v) for k, v in dict(self.weights).items()}
        if set(weights) != set(keys):
            missing = sorted(set(keys) - set(weights))
            extra = sorted(set(weights) - set(keys))
            raise RubricError(f"weights do not match dimensions (missing {missing}, extra {extra})")
        for k, w in weights.items():
            if not math.isfinite(w) or w < 0:
                raise RubricError(f"weight for {k} must be a finite non-negative number, got {w}")
        total = sum(weights.values())
        if abs(total - 1.0) > _WEIGHT_TOLERANCE:
            raise RubricError(f"weights must sum to 1, got {total:.6f}")
        # Keep the weights in dimension order, in a plain dict.
        object.__setattr__(self, "weights", {k: weights[k] for k in keys})

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dimensions)

    def dimension(self, key: str) -> Dimension:
        for d in self.dimensions:
            if d.key == key:
                return d
        raise KeyError(key)

    def with_weights(self, weights: Mapping[str, float], version: str) -> "Rubric":
        """A new rubric with the same dimensions and new weights (normalised to sum 1)."""
        total = float(sum(weights.values()))
        if total <= 0:
            raise RubricError("weights must have a positive sum")
        return Rubric(version=version, dimensions=self.dimensions,
                      weights={k: float(v) / total for k, v in weights.items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "dimensions": [d.to_dict() for d in self.dimensions],
            "weights": dict(self.weights),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Rubric":
        return cls(
            version=data["version"],
            dimensions=tuple(Dimension(**d) for d in data["dimensions"]),
            weights=dict(data["weights"]),
        )


DEFAULT_RUBRIC = Rubric(version="v1")


def validate_scores(scores: Mapping[str, Any], rubric: Rubric = DEFAULT_RUBRIC) -> dict[str, int]:
    """Check that ``scores`` has exactly the rubric's dimensions, each an int in 1..10."""
    keys = set(rubric.keys)
    got = set(scores)
    if got != keys:
        raise RubricError(
            f"expected dimensions {sorted(keys)}; missing {sorted(keys - got)}, "
            f"unexpected {sorted(got - keys)}"
        )
    out: dict[str, int] = {}
    for k in rubric.keys:
        v = scores[k]
        if isinstance(v, bool) or not isinstance(v, int):
            raise RubricError(f"score for {k} must be an integer, got {v!r}")
        if not SCORE_MIN <= v <= SCORE_MAX:
            raise RubricError(f"score for {k} must be between {SCORE_MIN} and {SCORE_MAX}, got {v}")
        out[k] = v
    return out


def weighted_score(scores: Mapping[str, float], rubric: Rubric = DEFAULT_RUBRIC) -> float:
    """Weighted sum of the five dimension scores (range 1..10 for valid scores)."""
    missing = [k for k in rubric.keys if k not in scores]
    if missing:
        raise RubricError(f"missing dimension scores: {missing}")
    return weighted_mean(scores, rubric.weights)


def weighted_mean(scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The one formula: sum of weight x score over the weights' total (1 for a valid rubric;
    a stored rubric whose weights drifted from 1 still gives a score on the 1..10 scale)."""
    total = sum(float(w) for w in weights.values()) or 1.0
    return float(sum(float(w) * float(scores[k]) for k, w in weights.items()) / total)
