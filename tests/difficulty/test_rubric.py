import pytest

from curation.difficulty.rubric import (
    DEFAULT_RUBRIC,
    DIMENSION_KEYS,
    Rubric,
    RubricError,
    validate_scores,
    weighted_score,
)


def test_default_rubric():
    assert DEFAULT_RUBRIC.version == "v1"
    assert DEFAULT_RUBRIC.keys == DIMENSION_KEYS
    assert DEFAULT_RUBRIC.weights == {
        "algorithmic_thinking": 0.30, "implementation": 0.20, "mathematics": 0.15,
        "data_structures": 0.15, "edge_cases": 0.20,
    }
    assert sum(DEFAULT_RUBRIC.weights.values()) == pytest.approx(1.0)
    assert all(d.description for d in DEFAULT_RUBRIC.dimensions)


def test_weighted_score():
    assert weighted_score({k: 5 for k in DIMENSION_KEYS}) == pytest.approx(5.0)
    s = {"algorithmic_thinking": 10, "implementation": 1, "mathematics": 1, "data_structures": 1, "edge_cases": 1}
    assert weighted_score(s) == pytest.approx(0.3 * 10 + 0.7)
    with pytest.raises(RubricError):
        weighted_score({"algorithmic_thinking": 3})


@pytest.mark.parametrize("weights", [
    {"algorithmic_thinking": 0.5, "implementation": 0.5, "mathematics": 0.5, "data_structures": 0, "edge_cases": 0},
    {"algorithmic_thinking": 1.2, "implementation": -0.2, "mathematics": 0, "data_structures": 0, "edge_cases": 0},
    {"algorithmic_thinking": 1.0},
])
def test_invalid_weights(weights):
    with pytest.raises(RubricError):
        Rubric(version="x", weights=weights)


def test_with_weights_and_round_trip():
    r = DEFAULT_RUBRIC.with_weights({k: 1 for k in DIMENSION_KEYS}, "v1-refit")
    assert r.version == "v1-refit" and r.weights["mathematics"] == pytest.approx(0.2)
    assert Rubric.from_dict(r.to_dict()) == r


def test_validate_scores():
    ok = {k: 3 for k in DIMENSION_KEYS}
    assert validate_scores(ok) == ok
    with pytest.raises(RubricError):
        validate_scores({**ok, "edge_cases": 11})
    with pytest.raises(RubricError):
        validate_scores({**ok, "edge_cases": True})
    with pytest.raises(RubricError):
        validate_scores({k: 3 for k in DIMENSION_KEYS[:4]})
