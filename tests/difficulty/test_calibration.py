import json

import numpy as np
import pytest

from curation.difficulty.calibration import (
    Calibration,
    expected_calibration_error,
    fit_calibration,
    refit_weights,
    reliability_curve,
    spearman,
)
from curation.difficulty.rubric import DEFAULT_RUBRIC, DIMENSION_KEYS, weighted_score

PLANTED = {"algorithmic_thinking": 0.40, "implementation": 0.10, "mathematics": 0.25,
           "data_structures": 0.05, "edge_cases": 0.20}


def synthetic(n=600, seed=0, noise=0.03):
    rng = np.random.default_rng(seed)
    rows = [{k: int(v) for k, v in zip(DIMENSION_KEYS, rng.integers(1, 11, size=5))} for _ in range(n)]
    true = np.array([sum(PLANTED[k] * r[k] for k in DIMENSION_KEYS) for r in rows])
    pass_rate = 1 / (1 + np.exp(1.5 * (true - 5.5)))
    pass_rate = np.clip(pass_rate + rng.normal(0, noise, size=n), 0, 1)
    return rows, true, pass_rate


def test_spearman_recovers_planted_ordering():
    _, true, pr = synthetic()
    assert spearman(true, pr) < -0.95
    assert np.isnan(spearman([1, 1, 1], [0.1, 0.2, 0.3]))


@pytest.mark.parametrize("method", ["isotonic", "logistic"])
def test_calibration_monotone_accurate_and_serialisable(method):
    _, true, pr = synthetic()
    cal = fit_calibration(true, pr, method=method)
    grid = np.linspace(0, 11, 111)
    pred = np.array(cal.predict_many(grid))
    assert np.all(np.diff(pred) <= 1e-12)  # decreasing
    assert np.all((pred >= 0) & (pred <= 1))
    fitted = np.array(cal.predict_many(true))
    assert np.mean(np.abs(fitted - pr)) < 0.06
    assert cal.spearman_rho < -0.95 and cal.n == len(true)
    assert cal.version.startswith(f"cal-{method}-v1-")
    again = Calibration.from_json(json.dumps(json.loads(cal.to_json())))
    assert again.predict_many(grid) == pytest.approx(list(pred))
    assert cal.predict(1.0) > 0.8 and cal.predict(10.0) < 0.1


def test_isotonic_stores_thresholds_and_clips():
    cal = fit_calibration([1, 2, 3, 4], [0.9, 0.95, 0.3, 0.1])
    assert cal.method == "isotonic" and cal.x_thresholds and len(cal.x_thresholds) == len(cal.y_thresholds)
    assert cal.predict(-5) == pytest.approx(cal.predict(1))
    assert cal.predict(50) == pytest.approx(0.1)
    assert cal.predict(1) == pytest.approx(0.925)  # pooled violators


def test_fit_is_deterministic():
    _, true, pr = synthetic(seed=3)
    assert fit_calibration(true, pr).to_json() == fit_calibration(true, pr).to_json()
    assert fit_calibration(true, pr, "logistic").to_json() == fit_calibration(true, pr, "logistic").to_json()


def test_fit_validation():
    with pytest.raises(ValueError):
        fit_calibration([1, 2], [0.5, 1.5])
    with pytest.raises(ValueError):
        fit_calibration([1, 2], [0.5], method="isotonic")
    with pytest.raises(ValueError):
        fit_calibration([1, 2], [0.5, 0.2], method="spline")


def test_reliability_curve():
    _, true, pr = synthetic()
    cal = fit_calibration(true, pr)
    pred = cal.predict_many(true)
    curve = reliability_curve(pred, pr, n_bins=5)
    assert sum(b["count"] for b in curve) == len(pr)
    for b in curve:
        assert b["lo"] <= b["mean_predicted"] <= b["hi"]
        assert abs(b["mean_predicted"] - b["mean_observed"]) < 0.05
    assert expected_calibration_error(curve) < 0.02
    q = reliability_curve(pred, pr, n_bins=4, strategy="quantile")
    assert sum(b["count"] for b in q) == len(pr)


def test_weight_refit_recovers_planted_weights():
    rows, _, pr = synthetic(n=800, seed=1)
    fit = refit_weights(rows, pr, DEFAULT_RUBRIC)
    assert sum(fit.weights.values()) == pytest.approx(1.0, abs=1e-9)
    assert all(w >= 0 for w in fit.weights.values())
    for k in DIMENSION_KEYS:
        assert fit.weights[k] == pytest.approx(PLANTED[k], abs=0.05), (k, fit.weights)
    assert fit.spearman_after <= fit.spearman_before  # more negative = better agreement
    assert fit.spearman_after < -0.95
    rubric = fit.rubric(DEFAULT_RUBRIC, "v1-refit-1")
    assert rubric.version == "v1-refit-1"
    assert weighted_score(rows[0], rubric) == pytest.approx(sum(fit.weights[k] * rows[0][k] for k in DIMENSION_KEYS))
    assert refit_weights(rows, pr, DEFAULT_RUBRIC).weights == fit.weights  # deterministic
