"""The calibration workbench's what-if maths (pure numpy/scipy, no Django).

A curator proposes weights for the five dimensions, a calibration method and bucket bounds; the
workbench answers on the *same* evidence rows what the active calibration would give:

* ``whatif(evidence, pool, proposal)``: weighted score for the proposed weights, Spearman rho
  overall and per source / platform / io format, the fitted monotone curve with a bootstrap
  confidence band, the reliability diagram, bucket counts over the whole pool, the biggest
  disagreements (predicted easy but rarely solved, and the reverse) and a sample of scatter points;
* ``fit_weights(evidence, ...)``: non-negative weights summing to 1 (the existing
  ``calibration.refit_weights``) with k-fold cross-validated rho beside the in-sample rho, so an
  over-fitted weight set shows as a gap between the two;
* ``keep_fraction_select``: the third selection policy (keep the hardest fraction of the pool).

Arrays, not lists of objects: the what-if runs at 100k problems per request (target p95 <= 300 ms),
so everything is vectorised and the scatter is a bounded sample.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.isotonic import IsotonicRegression
from curation.errors import FieldError

from . import calibration as calibration_core
from . import selection as selection_core
from .rubric import DEFAULT_RUBRIC, DIMENSION_KEYS

ORIGINS = ("measured", "imported")
GROUP_FIELDS = ("source", "platform", "io_format")
MAX_POINTS = 1000  # scatter points sent to the browser; rho and counts always use every row
CURVE_POINTS = 60
BAND_Z = 1.645  # a 90% pointwise band


class WorkbenchError(FieldError):
    """A proposal the workbench cannot evaluate; ``field`` names the offending input."""


@dataclass
class Evidence:
    """One row per problem with a measured or imported pass rate.

    ``model_scores`` are the predictor's five scores, ``human_scores`` the curators' adjusted ones
    (NaN where no curator adjusted a dimension: the model's value stands), ``decision`` the review
    outcome ("accepted", "rejected" or "")."""

    ids: np.ndarray
    model_scores: np.ndarray  # (n, 5)
    human_scores: np.ndarray  # (n, 5), NaN = not adjusted
    passes: np.ndarray  # (n, 2): per origin, in ORIGINS order
    samples: np.ndarray  # (n, 2)
    source: np.ndarray
    platform: np.ndarray
    io_format: np.ndarray
    decision: np.ndarray
    titles: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(len(self.ids))

    def group_codes(self, name: str) -> tuple[list[str], np.ndarray]:
        """Distinct values of source/platform/io_format and each row's index into them, computed
        once per loaded evidence set (np.unique over strings is the slow part of per-group rho)."""
        memo = self.__dict__.setdefault("_codes", {})
        if name not in memo:
            names, inverse = np.unique(getattr(self, name).astype(str), return_inverse=True)
            memo[name] = (names.tolist(), inverse)
        return memo[name]

    def counts(self, origins: Sequence[str] = ORIGINS) -> tuple[np.ndarray, np.ndarray]:
        """Passes and samples pooled over the chosen origins (a problem measured here *and* in an
        imported file counts both only when both origins are chosen)."""
        cols = [ORIGINS.index(o) for o in origins]
        return self.passes[:, cols].sum(axis=1), self.samples[:, cols].sum(axis=1)

    def pass_rate(self, origins: Sequence[str] = ORIGINS) -> np.ndarray:
        passes, samples = self.counts(origins)
        return np.divide(passes, samples, out=np.full(len(self.ids), np.nan), where=samples > 0)

    def scores(self, use_human: bool) -> np.ndarray:
        if not use_human:
            return self.model_scores
        return np.where(np.isnan(self.human_scores), self.model_scores, self.human_scores)

    def rows_used(self, use_human: bool, origins: Sequence[str] = ORIGINS, scores: np.ndarray | None = None) -> np.ndarray:
        """Boolean mask of the rows a fit may use: evidence from a chosen origin and five scores;
        with human evidence on, problems the curators rejected are left out (their pass rate is
        not evidence about a problem anyone will train on)."""
        mask = self.counts(origins)[1] > 0
        mask &= ~np.isnan(self.scores(use_human) if scores is None else scores).any(axis=1)
        if use_human:
            mask &= self.decision != "rejected"
        return mask

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> "Evidence":
        """Rows as dicts (id, scores {dim: v}, human_scores {dim: v}, passes + samples + origin or
        measured/imported (passes, samples) pairs, source, platform, io_format, decision, title)."""
        n = len(rows)
        model = np.full((n, len(DIMENSION_KEYS)), np.nan)
        human = np.full((n, len(DIMENSION_KEYS)), np.nan)
        for i, r in enumerate(rows):
            for j, k in enumerate(DIMENSION_KEYS):
                v = (r.get("scores") or {}).get(k)
                model[i, j] = np.nan if v is None else float(v)
                hv = (r.get("human_scores") or {}).get(k)
                human[i, j] = np.nan if hv is None else float(hv)
        passes = np.zeros((n, len(ORIGINS)))
        samples = np.zeros((n, len(ORIGINS)))
        for i, r in enumerate(rows):
            for j, o in enumerate(ORIGINS):
                if o in r:  # {"measured": (passes, samples), "imported": (...)}
                    passes[i, j], samples[i, j] = r[o]
            if "passes" in r:  # or a single origin: passes, samples, origin
                j = ORIGINS.index(r.get("origin", "measured"))
                passes[i, j], samples[i, j] = r["passes"], r["samples"]
        return cls(
            ids=np.array([int(r["id"]) for r in rows], dtype=np.int64),
            model_scores=model, human_scores=human, passes=passes, samples=samples,
            source=np.array([r.get("source", "") for r in rows], dtype=object),
            platform=np.array([r.get("platform", "") for r in rows], dtype=object),
            io_format=np.array([r.get("io_format", "") for r in rows], dtype=object),
            decision=np.array([r.get("decision", "") for r in rows], dtype=object),
            titles=[r.get("title", "") for r in rows],
        )


@dataclass
class Pool:
    """Every scored problem (the population the buckets and the selection count)."""

    ids: np.ndarray
    scores: np.ndarray  # (n, 5)
    source: np.ndarray


@dataclass(frozen=True)
class Proposal:
    weights: tuple[float, ...]
    method: str = "isotonic"
    easy_min: float = 0.8
    hard_max: float = 0.2
    use_human: bool = False
    origins: tuple[str, ...] = ORIGINS

    @property
    def thresholds(self) -> selection_core.BucketThresholds:
        return selection_core.BucketThresholds(easy_min=self.easy_min, hard_max=self.hard_max)

    def weights_dict(self) -> dict[str, float]:
        return dict(zip(DIMENSION_KEYS, self.weights))


def proposal_from(weights: Mapping[str, Any], *, method: str = "isotonic", easy_min: Any = 0.8,
                  hard_max: Any = 0.2, use_human: bool = False,
                  origins: Sequence[str] = ORIGINS) -> Proposal:
    """Validate raw inputs (form or JSON): every error names its field. Weights are normalised to
    sum 1 (a curator types 3, 2, 1.5, 1.5, 2 and means the shares)."""
    values = []
    for k in DIMENSION_KEYS:
        raw = weights.get(k)
        try:
            v = float(raw)
        except (TypeError, ValueError):
            raise WorkbenchError(f"weight_{k}", f"a number is required, got {raw!r}") from None
        if not math.isfinite(v) or v < 0:
            raise WorkbenchError(f"weight_{k}", "must be a finite number >= 0")
        values.append(v)
    total = sum(values)
    if total <= 0:
        raise WorkbenchError("weights", "at least one weight must be positive")
    if method not in calibration_core.METHODS:
        raise WorkbenchError("method", f"must be one of {', '.join(calibration_core.METHODS)}")
    bounds = {}
    for name, raw in (("easy_min", easy_min), ("hard_max", hard_max)):
        try:
            bounds[name] = float(raw)
        except (TypeError, ValueError):
            raise WorkbenchError(name, f"a number is required, got {raw!r}") from None
        if not 0.0 <= bounds[name] <= 1.0:
            raise WorkbenchError(name, "must be between 0 and 1")
    if bounds["hard_max"] > bounds["easy_min"]:
        raise WorkbenchError("hard_max", "must not exceed easy_min")
    origins = tuple(o for o in ORIGINS if o in set(origins))
    if not origins:
        raise WorkbenchError("origins", f"choose at least one of {', '.join(ORIGINS)}")
    return Proposal(tuple(v / total for v in values), method, bounds["easy_min"],
                    bounds["hard_max"], bool(use_human), origins)


# --- small pieces -------------------------------------------------------------------------


def _finite(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def weighted(scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted scores rounded to 1e-9: two problems with equal dimension scores must tie, whatever
    order the floating-point sum ran in (ties change Spearman's rho)."""
    return np.round(scores @ w, 9)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho as its definition: Pearson's r of the average ranks (ties share their mean
    rank), nan when undefined. The same number as ``scipy.stats.spearmanr`` without its per-call
    overhead, which dominated a what-if that computes a dozen of them (overall and per group)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    rx = _average_ranks(x)
    ry = _average_ranks(y)
    rx -= rx.mean()
    ry -= ry.mean()
    denom = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry / denom) if denom else float("nan")


def _average_ranks(a: np.ndarray) -> np.ndarray:
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    # Start of each run of equal values; a run of ties gets the mean of its 1-based positions.
    starts = np.flatnonzero(np.concatenate(([True], sorted_a[1:] != sorted_a[:-1])))
    ends = np.concatenate((starts[1:], [len(a)]))
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(len(a))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def group_rho(x: np.ndarray, y: np.ndarray, names: Sequence[str], codes: np.ndarray) -> list[dict[str, Any]]:
    """Spearman rho within each group (n and rho; rho None below 3 rows or with no spread).
    ``codes`` index ``names`` row by row (see ``Evidence.group_codes``)."""
    out = []
    for j, g in enumerate(names):
        mask = codes == j
        n = int(mask.sum())
        if n:
            out.append({"group": g or "—", "n": n, "rho": _finite(spearman(x[mask], y[mask]))})
    return out


def bucket_counts(rates: np.ndarray, thresholds: selection_core.BucketThresholds) -> dict[str, int]:
    rates = np.asarray(rates, dtype=float)
    nan = np.isnan(rates)
    easy = (~nan) & (rates >= thresholds.easy_min)
    hard = (~nan) & (rates < thresholds.hard_max)
    medium = (~nan) & ~easy & ~hard
    return {"easy": int(easy.sum()), "medium": int(medium.sum()), "hard": int(hard.sum()), "unscored": int(nan.sum())}


def curve_grid(x: np.ndarray, n: int = CURVE_POINTS) -> np.ndarray:
    lo, hi = (float(np.min(x)), float(np.max(x))) if len(x) else (1.0, 10.0)
    if hi <= lo:
        hi = lo + 1e-6
    return np.linspace(lo, hi, n)


def predict(fitted: calibration_core.Calibration, x: np.ndarray) -> np.ndarray:
    """``fitted.predict_many`` as an array (no per-item Python floats: the pool has 100k rows)."""
    if fitted.method == "isotonic":
        out = np.interp(x, fitted.x_thresholds, fitted.y_thresholds)
    else:
        out = 1.0 / (1.0 + np.exp(-(fitted.intercept + fitted.slope * x)))
    return np.clip(out, 0.0, 1.0)


def confidence_band(x: np.ndarray, y: np.ndarray, fitted_grid: np.ndarray, grid: np.ndarray,
                    z: float = BAND_Z) -> tuple[np.ndarray, np.ndarray]:
    """A pointwise band around the fitted curve: at each grid point, the fitted value plus or
    minus ``z`` standard errors of the mean observed pass rate among the k problems nearest in
    score (k = max(20, n / 20)). Problem-level spread, not attempt counts: pass rates vary between
    problems of equal score far more than binomial sampling says. Where evidence is thin the band
    widens; O(grid * k), so it is cheap enough for every what-if (a bootstrap of 30 refits at 10k
    rows was not)."""
    n = len(x)
    if n < 3:
        return np.full(len(grid), np.nan), np.full(len(grid), np.nan)
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    k = min(n, max(20, n // 20))
    # Prefix sums give each window's mean and variance in O(1).
    c1 = np.concatenate([[0.0], np.cumsum(ys)])
    c2 = np.concatenate([[0.0], np.cumsum(ys * ys)])
    pos = np.searchsorted(xs, grid)
    lo_idx = np.clip(pos - k // 2, 0, n - k)
    hi_idx = lo_idx + k
    s1 = c1[hi_idx] - c1[lo_idx]
    s2 = c2[hi_idx] - c2[lo_idx]
    mean = s1 / k
    var = np.maximum(s2 / k - mean * mean, 0.0) * k / max(k - 1, 1)
    se = np.sqrt(var / k)
    return np.clip(fitted_grid - z * se, 0, 1), np.clip(fitted_grid + z * se, 0, 1)


def held_out_predictions(x: np.ndarray, y: np.ndarray, w: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray | None:
    """Each row's pass rate predicted by an isotonic map fitted without its fold. An isotonic fit
    is close to perfectly calibrated on its own rows, so an in-sample reliability diagram says
    nothing; held out, it shows how the map does on problems it has not seen. None below 50 rows."""
    n = len(x)
    if n < 50:
        return None
    out = np.empty(n)
    for test in _folds(n, folds, seed):
        train = np.ones(n, dtype=bool)
        train[test] = False
        iso = IsotonicRegression(increasing=False, y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(x[train], y[train], sample_weight=w[train])
        out[test] = np.interp(x[test], iso.X_thresholds_, iso.y_thresholds_)
    return np.clip(out, 0.0, 1.0)


def disagreements(ev: Evidence, mask: np.ndarray, predicted: np.ndarray, observed: np.ndarray,
                  weighted: np.ndarray, samples: np.ndarray, limit: int = 10,
                  w: np.ndarray | None = None) -> dict[str, list[dict[str, Any]]]:
    """Rows furthest from the curve: predicted easy but rarely solved (observed << predicted),
    and predicted hard but often solved (observed >> predicted). Ties broken by id. Each row
    carries the model's weighted score and, where a curator adjusted a score, the curators'."""
    idx = np.flatnonzero(mask)
    resid = observed - predicted
    if w is None:
        w = np.full(len(DIMENSION_KEYS), 1 / len(DIMENSION_KEYS))
    adjusted = ~np.isnan(ev.human_scores).all(axis=1)

    def rows(order: np.ndarray) -> list[dict[str, Any]]:
        out = []
        for j in order[:limit]:
            i = idx[j]
            out.append({
                "id": int(ev.ids[i]), "title": ev.titles[i] if i < len(ev.titles) else "",
                "weighted": round(float(weighted[j]), 3), "predicted": round(float(predicted[j]), 3),
                "observed": round(float(observed[j]), 3), "samples": int(samples[i]),
                "residual": round(float(resid[j]), 3), "decision": ev.decision[i],
                "source": ev.source[i],
                "model_weighted": _finite(round(float(ev.model_scores[i] @ w), 3)),
                "human_weighted": round(float(ev.scores(True)[i] @ w), 3) if adjusted[i] else None,
            })
        return out

    ids = ev.ids[idx]
    under = np.lexsort((ids, resid))  # most negative first
    over = np.lexsort((ids, -resid))
    return {"predicted_easy_rarely_solved": rows(under[resid[under] < 0]),
            "predicted_hard_often_solved": rows(over[resid[over] > 0])}


def evidence_summary(ev: Evidence) -> dict[str, int]:
    return {
        "problems": len(ev),
        "measured": int((ev.samples[:, 0] > 0).sum()),
        "imported": int((ev.samples[:, 1] > 0).sum()),
        "human_adjusted": int((~np.isnan(ev.human_scores)).any(axis=1).sum()),
        "accepted": int((ev.decision == "accepted").sum()),
        "rejected": int((ev.decision == "rejected").sum()),
    }


# --- the what-if --------------------------------------------------------------------------


def whatif(ev: Evidence, pool: Pool, proposal: Proposal, *, band: bool = True,
           max_points: int = MAX_POINTS, disagreement_limit: int = 10) -> dict[str, Any]:
    """Everything the page shows for one proposal, as JSON-ready data."""
    w = np.asarray(proposal.weights, dtype=float)
    X = ev.scores(proposal.use_human)
    mask = ev.rows_used(proposal.use_human, proposal.origins, X)
    x = weighted(X[mask], w)
    y = ev.pass_rate(proposal.origins)[mask]
    sw = ev.counts(proposal.origins)[1][mask]
    out: dict[str, Any] = {
        "proposal": {"weights": proposal.weights_dict(), "method": proposal.method, "easy_min": proposal.easy_min,
                     "hard_max": proposal.hard_max, "use_human": proposal.use_human, "origins": list(proposal.origins)},
        "n": int(mask.sum()),
        "evidence": evidence_summary(ev),
        "rho": _finite(spearman(x, y)),
        "rho_model_scores": None,
        "rho_by": {g: group_rho(x, y, ev.group_codes(g)[0], ev.group_codes(g)[1][mask]) for g in GROUP_FIELDS},
    }
    if proposal.use_human:
        # The same rows scored with the model's own numbers: what the human evidence changed.
        xm = weighted(ev.model_scores[mask], w)
        out["rho_model_scores"] = _finite(spearman(xm, y)) if not np.isnan(xm).any() else None
    pool_weighted = weighted(pool.scores, w)
    if out["n"] < 2 or np.all(x == x[0]):
        out.update({"fitted": None, "curve": [], "band": [], "reliability": [], "reliability_held_out": False, "ece": None,
                    "counts": bucket_counts(np.full(len(pool_weighted), np.nan), proposal.thresholds),
                    "evidence_counts": bucket_counts(np.full(len(x), np.nan), proposal.thresholds),
                    "disagreements": {"predicted_easy_rarely_solved": [], "predicted_hard_often_solved": []},
                    "points": [], "points_total": out["n"]})
        return out
    fitted = calibration_core.fit_calibration(x, y, method=proposal.method, sample_weight=sw, version="whatif")
    predicted = predict(fitted, x)
    held_out = held_out_predictions(x, y, sw) if proposal.method == "isotonic" else None
    reliability = calibration_core.reliability_curve(predicted if held_out is None else held_out, y)
    out["reliability_held_out"] = held_out is not None
    grid = curve_grid(x)
    curve = predict(fitted, grid)
    out["fitted"] = fitted.to_dict()
    out["curve"] = [{"x": a, "y": b} for a, b in zip(np.round(grid, 4).tolist(), np.round(curve, 4).tolist())]
    if band:
        lo, hi = confidence_band(x, y, curve, grid)
        out["band"] = [{"x": a, "lo": _finite(l), "hi": _finite(h)} for a, l, h in zip(
            np.round(grid, 4).tolist(), np.round(lo, 4).tolist(), np.round(hi, 4).tolist())]
    else:
        out["band"] = []
    out["reliability"] = reliability
    out["ece"] = _finite(calibration_core.expected_calibration_error(reliability))
    pool_rates = predict(fitted, pool_weighted)
    out["counts"] = bucket_counts(pool_rates, proposal.thresholds)
    out["evidence_counts"] = bucket_counts(y, proposal.thresholds)  # by observed pass rate
    out["disagreements"] = disagreements(ev, mask, predicted, y, x, ev.counts(proposal.origins)[1], disagreement_limit, w)
    idx = np.flatnonzero(mask)
    take = np.arange(len(x))
    if len(take) > max_points:  # an even, deterministic thinning keeps the cloud's shape
        take = np.unique(np.linspace(0, len(x) - 1, max_points).astype(int))
    sel = idx[take]
    t = proposal.thresholds
    pb = predicted[take]
    buckets = np.where(pb >= t.easy_min, "easy", np.where(pb >= t.hard_max, "medium", "hard")).tolist()
    out["points"] = [{"x": a, "y": b, "id": c, "source": d, "bucket": e} for a, b, c, d, e in zip(
        np.round(x[take], 3).tolist(), np.round(y[take], 3).tolist(), ev.ids[sel].tolist(), ev.source[sel].tolist(), buckets)]
    out["points_total"] = int(len(x))
    return out


# --- fitting the weights ------------------------------------------------------------------


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return [perm[i::k] for i in range(k)]


def fit_weights(ev: Evidence, proposal: Proposal, *, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Constrained weights (>= 0, sum 1) that maximise rank agreement on the proposal's evidence,
    with the k-fold cross-validated rho of the *fitting procedure* (fit on k-1 folds, rho on the
    held-out fold, mean over folds) beside the in-sample rho — and the same held-out rho for the
    proposed weights, which are not fitted, for a fair comparison."""
    X = ev.scores(proposal.use_human)
    mask = ev.rows_used(proposal.use_human, proposal.origins, X)
    X, y = X[mask], ev.pass_rate(proposal.origins)[mask]
    n = len(y)
    rubric = DEFAULT_RUBRIC.with_weights(proposal.weights_dict(), "proposal")
    if n < len(DIMENSION_KEYS) + 2:
        raise WorkbenchError("evidence", f"fitting weights needs at least {len(DIMENSION_KEYS) + 2} problems with evidence, found {n}")
    rows = [dict(zip(DIMENSION_KEYS, r)) for r in X.tolist()]
    fit = calibration_core.refit_weights(rows, y, rubric)
    w_fit = np.array([fit.weights[k] for k in DIMENSION_KEYS])
    w_prop = np.asarray(proposal.weights, dtype=float)
    k = max(2, min(folds, n // (len(DIMENSION_KEYS) + 2)))
    cv_fit, cv_prop = [], []
    for test in _folds(n, k, seed):
        train = np.setdiff1d(np.arange(n), test)
        try:
            f = calibration_core.refit_weights([rows[i] for i in train], y[train], rubric)
        except ValueError:
            continue
        wf = np.array([f.weights[key] for key in DIMENSION_KEYS])
        cv_fit.append(spearman(weighted(X[test], wf), y[test]))
        cv_prop.append(spearman(weighted(X[test], w_prop), y[test]))

    def mean(v: list[float]) -> float | None:
        v = [a for a in v if math.isfinite(a)]
        return float(np.mean(v)) if v else None

    return {
        "weights": {k2: float(v) for k2, v in fit.weights.items()},
        "n": n,
        "folds": k,
        "rho_in_sample": _finite(spearman(weighted(X, w_fit), y)),
        "rho_cv": mean(cv_fit),
        "rho_cv_folds": [_finite(v) for v in cv_fit],
        "proposed_rho_in_sample": _finite(spearman(weighted(X, w_prop), y)),
        "proposed_rho_cv": mean(cv_prop),
        "chosen": fit.chosen,
    }


# --- the keep-fraction policy -------------------------------------------------------------


@dataclass(frozen=True)
class KeepFractionPolicy:
    """Keep the hardest ``keep_fraction`` of the scored problems (lowest calibrated pass rate
    first, ties by id); unscored problems follow ``keep_unscored``."""

    keep_fraction: float = 0.7
    keep_unscored: bool = True
    name: str = "keep_fraction"

    def __post_init__(self) -> None:
        if not 0.0 < self.keep_fraction <= 1.0:
            raise ValueError("keep_fraction must be in (0, 1]")


def keep_fraction_select(items: Sequence[selection_core.SelectionItem], policy: KeepFractionPolicy,
                         thresholds: selection_core.BucketThresholds = selection_core.BucketThresholds()) -> selection_core.SelectionResult:
    scored = [it for it in items if thresholds.bucket(it.pass_rate) != selection_core.UNSCORED]
    order = sorted(scored, key=lambda it: (float(it.pass_rate), it.id))  # type: ignore[arg-type]
    n_keep = int(math.floor(policy.keep_fraction * len(order) + 1e-9))
    kept = {it.id for it in order[:n_keep]}
    decisions = []
    for it in items:
        b = thresholds.bucket(it.pass_rate)
        if b == selection_core.UNSCORED:
            keep, reason = policy.keep_unscored, "unscored"
        elif it.id in kept:
            keep, reason = True, f"within the hardest {policy.keep_fraction:.0%}"
        else:
            keep, reason = False, f"outside the hardest {policy.keep_fraction:.0%}"
        decisions.append(selection_core.Decision(it.id, b, keep, reason, it.pass_rate, it.source, it.platform))
    policy_dict = {"keep_fraction": policy.keep_fraction, "keep_unscored": policy.keep_unscored, "name": policy.name}
    return selection_core.SelectionResult(policy_dict, {"easy_min": thresholds.easy_min, "hard_max": thresholds.hard_max}, decisions)


def policy_from(params: Mapping[str, Any]):
    """A selection policy from form/JSON parameters; errors name the field."""
    name = params.get("policy") or "target_easy_share"

    def num(key: str, default: float) -> float:
        raw = params.get(key, default)
        if raw in (None, ""):
            raw = default
        try:
            v = float(raw)
        except (TypeError, ValueError):
            raise WorkbenchError(key, f"a number is required, got {raw!r}") from None
        if not 0.0 <= v <= 1.0:
            raise WorkbenchError(key, "must be between 0 and 1")
        return v

    keep_unscored = str(params.get("keep_unscored", "true")).lower() not in ("0", "false", "off", "no")
    try:
        if name == "target_easy_share":
            return selection_core.TargetEasySharePolicy(num("target_easy_share", 0.2), keep_unscored)
        if name == "cutoff":
            return selection_core.CutoffPolicy(num("max_pass_rate", 0.8), keep_unscored)
        if name == "keep_fraction":
            return KeepFractionPolicy(num("keep_fraction", 0.7), keep_unscored)
    except ValueError as exc:
        if isinstance(exc, WorkbenchError):
            raise
        raise WorkbenchError(name, str(exc)) from None
    raise WorkbenchError("policy", "must be target_easy_share, cutoff or keep_fraction")


def select_any(items, policy, thresholds) -> selection_core.SelectionResult:
    if isinstance(policy, KeepFractionPolicy):
        return keep_fraction_select(items, policy, thresholds)
    return selection_core.select(items, policy, thresholds)


def histogram_by(decisions: Sequence[selection_core.Decision], attr: str) -> dict[str, dict[str, int]]:
    """before = all, after = kept; per bucket or source."""
    out: dict[str, dict[str, int]] = {}
    for d in decisions:
        key = getattr(d, attr) or "—"
        c = out.setdefault(key, {"before": 0, "after": 0})
        c["before"] += 1
        c["after"] += int(d.kept)
    return dict(sorted(out.items()))


def rank_label_rho(labels: Sequence[str], pass_rates: Sequence[float]) -> float | None:
    """Spearman rho of a source's own easy/medium/hard label (1/2/3) against pass rates: the
    yardstick a predictor should beat."""
    order = {"easy": 1, "medium": 2, "hard": 3}
    pairs = [(order[lab], r) for lab, r in zip(labels, pass_rates) if lab in order]
    if len(pairs) < 3:
        return None
    a, b = zip(*pairs)
    return _finite(spearman(np.asarray(a, float), np.asarray(b, float)))


__all__ = [
    "Evidence", "Pool", "Proposal", "WorkbenchError", "proposal_from", "whatif", "fit_weights",
    "KeepFractionPolicy", "keep_fraction_select", "policy_from", "select_any", "histogram_by",
    "bucket_counts", "group_rho", "confidence_band", "rank_label_rho",
]
