"""Calibration: a monotone map from weighted difficulty score to expected pass rate.

* ``fit_calibration(scores, pass_rates, method="isotonic"|"logistic", sample_weight=None)`` ->
  :class:`Calibration` (JSON-serialisable; ``predict(score)``). Isotonic is decreasing (higher
  difficulty -> lower pass rate) and stored as its X/Y thresholds, predicted by linear interpolation
  (clipped at the ends), exactly as sklearn's ``IsotonicRegression(out_of_bounds="clip")``. Logistic
  is ``p = 1 / (1 + exp(-(a + b * score)))`` fitted by weighted binomial likelihood (b <= 0).
* ``spearman(scores, pass_rates)``, ``reliability_curve(predicted, observed)``.
* ``refit_weights(dimension_scores, pass_rates, rubric)``: non-negative weights summing to 1 that
  maximise rank agreement (deterministic: NNLS on centred data as a start, then a softmax-simplex
  refinement of the Pearson correlation with pass-rate ranks; the best Spearman among current,
  NNLS and refined weights wins).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import optimize, stats
from sklearn.isotonic import IsotonicRegression

from .rubric import DEFAULT_RUBRIC, Rubric

CALIBRATION_FORMAT = 1
METHODS = ("isotonic", "logistic")


def spearman(scores: Sequence[float], pass_rates: Sequence[float]) -> float:
    """Spearman rho between difficulty scores and pass rates (expect it negative); nan if undefined."""
    x = np.asarray(scores, dtype=float)
    y = np.asarray(pass_rates, dtype=float)
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


@dataclass
class Calibration:
    method: str
    version: str
    rubric_version: str = ""
    n: int = 0
    spearman_rho: float = float("nan")
    x_thresholds: list[float] = field(default_factory=list)  # isotonic
    y_thresholds: list[float] = field(default_factory=list)  # isotonic
    intercept: float = 0.0  # logistic
    slope: float = 0.0  # logistic
    format: int = CALIBRATION_FORMAT

    def predict(self, score: float) -> float:
        return float(self.predict_many([score])[0])

    def predict_many(self, scores: Sequence[float]) -> list[float]:
        s = np.asarray(scores, dtype=float)
        if self.method == "isotonic":
            if not self.x_thresholds:
                raise ValueError("empty isotonic calibration")
            out = np.interp(s, self.x_thresholds, self.y_thresholds)
        elif self.method == "logistic":
            out = 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * s)))
        else:
            raise ValueError(f"unknown method {self.method}")
        return [float(v) for v in np.clip(out, 0.0, 1.0)]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if isinstance(d["spearman_rho"], float) and math.isnan(d["spearman_rho"]):
            d["spearman_rho"] = None
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Calibration":
        d = dict(data)
        if d.get("spearman_rho") is None:
            d["spearman_rho"] = float("nan")
        if d.get("format", CALIBRATION_FORMAT) != CALIBRATION_FORMAT:
            raise ValueError(f"unsupported calibration format {d.get('format')}")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> "Calibration":
        return cls.from_dict(json.loads(text))


def _data_digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=float).tobytes())
    return h.hexdigest()[:10]


def fit_calibration(
    scores: Sequence[float],
    pass_rates: Sequence[float],
    method: str = "isotonic",
    sample_weight: Sequence[float] | None = None,
    rubric_version: str = DEFAULT_RUBRIC.version,
    version: str | None = None,
) -> Calibration:
    """Fit a decreasing map score -> pass rate. ``sample_weight``: e.g. attempts per problem."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    x = np.asarray(scores, dtype=float)
    y = np.asarray(pass_rates, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError("need at least two (score, pass rate) pairs of equal length")
    if np.any((y < 0) | (y > 1)) or not np.all(np.isfinite(x)):
        raise ValueError("pass rates must be in [0, 1] and scores finite")
    w = np.ones_like(x) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    rho = spearman(x, y)
    version = version or f"cal-{method}-{rubric_version}-{_data_digest(x, y, w)}"
    if method == "isotonic":
        iso = IsotonicRegression(increasing=False, y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(x, y, sample_weight=w)
        return Calibration(method, version, rubric_version, int(len(x)), rho,
                           x_thresholds=[float(v) for v in iso.X_thresholds_],
                           y_thresholds=[float(v) for v in iso.y_thresholds_])
    # Logistic: weighted binomial log-likelihood with soft labels; slope constrained <= 0.
    mu, sd = float(x.mean()), float(x.std()) or 1.0
    z = (x - mu) / sd
    eps = 1e-9

    def nll(params: np.ndarray) -> float:
        a, b = params
        p = 1.0 / (1.0 + np.exp(-(a + b * z)))
        p = np.clip(p, eps, 1 - eps)
        return float(-np.sum(w * (y * np.log(p) + (1 - y) * np.log(1 - p))) / np.sum(w))

    res = optimize.minimize(nll, x0=np.array([0.0, -1.0]), method="L-BFGS-B",
                            bounds=[(-50, 50), (-50, 0)])
    a, b = (float(v) for v in res.x)
    # Back to the raw score scale: a + b * (s - mu) / sd.
    return Calibration(method, version, rubric_version, int(len(x)), rho,
                       intercept=a - b * mu / sd, slope=b / sd)


def reliability_curve(predicted: Sequence[float], observed: Sequence[float], n_bins: int = 10,
                      strategy: str = "uniform") -> list[dict[str, float]]:
    """Binned mean predicted vs mean observed pass rate (bins with no item are omitted)."""
    p = np.asarray(predicted, dtype=float)
    o = np.asarray(observed, dtype=float)
    if p.shape != o.shape:
        raise ValueError("predicted and observed differ in length")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1))) if len(p) else np.array([0.0, 1.0])
    else:
        raise ValueError("strategy must be uniform or quantile")
    out = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        mask = (p >= lo) & ((p < hi) if i < len(edges) - 2 else (p <= hi))
        if not mask.any():
            continue
        out.append({"lo": float(lo), "hi": float(hi), "count": int(mask.sum()),
                    "mean_predicted": float(p[mask].mean()), "mean_observed": float(o[mask].mean())})
    return out


def expected_calibration_error(curve: Sequence[Mapping[str, float]]) -> float:
    total = sum(b["count"] for b in curve)
    if not total:
        return float("nan")
    return float(sum(b["count"] * abs(b["mean_predicted"] - b["mean_observed"]) for b in curve) / total)


@dataclass
class WeightFit:
    weights: dict[str, float]
    spearman_before: float
    spearman_after: float
    chosen: str  # current | nnls | refined

    def rubric(self, base: Rubric, version: str) -> Rubric:
        return base.with_weights(self.weights, version)


def _matrix(dimension_scores: Sequence[Mapping[str, float]], keys: Sequence[str]) -> np.ndarray:
    return np.array([[float(row[k]) for k in keys] for row in dimension_scores], dtype=float)


def refit_weights(
    dimension_scores: Sequence[Mapping[str, float]],
    pass_rates: Sequence[float],
    rubric: Rubric = DEFAULT_RUBRIC,
) -> WeightFit:
    """Non-negative weights summing to 1 that maximise rank agreement between the weighted score
    and difficulty (= 1 - pass rate). Deterministic."""
    keys = list(rubric.keys)
    X = _matrix(dimension_scores, keys)
    y = np.asarray(pass_rates, dtype=float)
    if len(X) != len(y) or len(y) < len(keys) + 2:
        raise ValueError("need more (scores, pass rate) pairs than dimensions + 1")
    # Target: difficulty rank in [0, 1] (ties averaged), so higher = harder.
    target = stats.rankdata(-y) / len(y)
    Xc = X - X.mean(axis=0)
    tc = target - target.mean()

    def rho_of(w: np.ndarray) -> float:
        return -spearman(X @ w, y)  # agreement with difficulty: higher is better

    current = np.array([rubric.weights[k] for k in keys])
    candidates: dict[str, np.ndarray] = {"current": current}
    coef, _ = optimize.nnls(Xc, tc)
    if coef.sum() > 0:
        candidates["nnls"] = coef / coef.sum()
    start = candidates.get("nnls", current)

    def neg_corr(theta: np.ndarray) -> float:
        w = np.exp(theta - theta.max())
        w /= w.sum()
        s = Xc @ w
        denom = np.linalg.norm(s) * np.linalg.norm(tc)
        return 0.0 if denom == 0 else float(-(s @ tc) / denom)

    theta0 = np.log(np.clip(start, 1e-6, None))
    res = optimize.minimize(neg_corr, theta0, method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000, "maxfev": 8000})
    w_ref = np.exp(res.x - res.x.max())
    candidates["refined"] = w_ref / w_ref.sum()

    scored = {name: rho_of(w) for name, w in candidates.items()}
    # Prefer the smooth optimum unless another candidate ranks strictly better.
    best = max(scored, key=lambda n: (round(scored[n], 12), n == "refined", n == "nnls"))
    w = candidates[best]
    weights = {k: float(round(v, 6)) for k, v in zip(keys, w)}
    # Make them sum exactly to 1 after rounding.
    drift = 1.0 - sum(weights.values())
    top = max(weights, key=weights.get)  # type: ignore[arg-type]
    weights[top] = round(weights[top] + drift, 6)
    return WeightFit(weights, spearman_before=-scored["current"], spearman_after=-scored[best], chosen=best)
