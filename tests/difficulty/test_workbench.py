"""The workbench's what-if maths on synthetic evidence, checked against scipy computed here."""
import numpy as np
import pytest
from scipy import stats

from curation.difficulty import workbench as wb
from curation.difficulty.rubric import DIMENSION_KEYS
from curation.difficulty.selection import BucketThresholds, SelectionItem


def make_evidence(n=400, seed=1, noise=0.15):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        s = rng.integers(1, 11, size=5)
        # Only algorithmic thinking and maths drive the true pass rate.
        p = float(np.clip(1.05 - (0.7 * s[0] + 0.3 * s[2]) / 10 + rng.normal(0, noise), 0, 1))
        k = 8
        passes = int(rng.binomial(k, p))
        rows.append({
            "id": i + 1, "scores": dict(zip(DIMENSION_KEYS, s.tolist())),
            "passes": passes, "samples": k, "origin": "measured" if i % 3 else "imported",
            "source": "a" if i % 2 else "b", "platform": "codeforces" if i % 4 else "leetcode",
            "io_format": "stdin", "decision": "", "title": f"p{i + 1}",
        })
    return rows


def pool_of(rows):
    return wb.Pool(ids=np.array([r["id"] for r in rows]),
                   scores=np.array([[r["scores"][k] for k in DIMENSION_KEYS] for r in rows], float),
                   source=np.array([r["source"] for r in rows], dtype=object))


def test_rho_and_counts_match_an_independent_scipy_computation():
    rows = make_evidence()
    ev = wb.Evidence.from_rows(rows)
    weights = {"algorithmic_thinking": 3, "implementation": 1, "mathematics": 1, "data_structures": 1, "edge_cases": 0}
    proposal = wb.proposal_from(weights)
    out = wb.whatif(ev, pool_of(rows), proposal)
    w = np.array([0.5, 1 / 6, 1 / 6, 1 / 6, 0.0])
    x = [round(sum(wi * r["scores"][k] for wi, k in zip(w, DIMENSION_KEYS)), 9) for r in rows]
    y = [r["passes"] / r["samples"] for r in rows]
    assert out["n"] == len(rows)
    assert out["rho"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-5)
    assert out["rho"] < -0.5
    # Per source, on the rows of that source only.
    by = {g["group"]: g for g in out["rho_by"]["source"]}
    xa = [xi for xi, r in zip(x, rows) if r["source"] == "a"]
    ya = [yi for yi, r in zip(y, rows) if r["source"] == "a"]
    assert by["a"]["n"] == len(xa) and by["a"]["rho"] == pytest.approx(stats.spearmanr(xa, ya).statistic, abs=1e-5)
    # Bucket counts over the pool: the fitted curve applied to every pool score.
    fitted = out["fitted"]
    pred = np.interp(x, fitted["x_thresholds"], fitted["y_thresholds"])
    t = BucketThresholds()
    expect = {"easy": int((pred >= t.easy_min).sum()), "hard": int((pred < t.hard_max).sum())}
    assert out["counts"]["easy"] == expect["easy"] and out["counts"]["hard"] == expect["hard"]
    assert sum(out["counts"].values()) == len(rows)
    # Curve decreasing, band around it.
    ys = [p["y"] for p in out["curve"]]
    assert all(a >= b - 1e-9 for a, b in zip(ys, ys[1:]))
    assert len(out["band"]) == len(out["curve"])
    assert all(b["lo"] <= c["y"] <= b["hi"] and b["hi"] - b["lo"] < 0.5 for b, c in zip(out["band"], out["curve"]))
    assert out["reliability"] and out["ece"] is not None


def test_changing_a_weight_changes_rho_and_bounds_change_counts():
    rows = make_evidence()
    ev, pool = wb.Evidence.from_rows(rows), pool_of(rows)
    good = wb.whatif(ev, pool, wb.proposal_from({"algorithmic_thinking": 1, "implementation": 0, "mathematics": 0, "data_structures": 0, "edge_cases": 0}), band=False)
    bad = wb.whatif(ev, pool, wb.proposal_from({"algorithmic_thinking": 0, "implementation": 0, "mathematics": 0, "data_structures": 0, "edge_cases": 1}), band=False)
    assert good["rho"] < -0.6 and abs(bad["rho"]) < 0.2
    wide = wb.whatif(ev, pool, wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1), easy_min=0.5, hard_max=0.4), band=False)
    narrow = wb.whatif(ev, pool, wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1), easy_min=0.95, hard_max=0.05), band=False)
    assert wide["counts"]["easy"] > narrow["counts"]["easy"] and wide["counts"]["medium"] < narrow["counts"]["medium"]


def test_origins_are_kept_apart():
    rows = make_evidence(120)
    ev = wb.Evidence.from_rows(rows)
    p_all = wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1))
    p_imp = wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1), origins=["imported"])
    assert wb.whatif(ev, pool_of(rows), p_all, band=False)["n"] == 120
    assert wb.whatif(ev, pool_of(rows), p_imp, band=False)["n"] == 40
    summary = wb.evidence_summary(ev)
    assert (summary["measured"], summary["imported"]) == (80, 40)


def test_human_evidence_switch_uses_adjusted_scores_and_drops_rejected():
    rows = make_evidence(60)
    rows[0]["decision"] = "rejected"
    rows[1]["human_scores"] = {"algorithmic_thinking": 10}
    ev = wb.Evidence.from_rows(rows)
    model = wb.whatif(ev, pool_of(rows), wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1)), band=False)
    human = wb.whatif(ev, pool_of(rows), wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1), use_human=True), band=False)
    assert model["n"] == 60 and human["n"] == 59
    x = [sum(r["scores"][k] for k in DIMENSION_KEYS) / 5 for r in rows[1:]]
    x[0] += (10 - rows[1]["scores"]["algorithmic_thinking"]) / 5
    x = [round(v, 9) for v in x]
    y = [r["passes"] / r["samples"] for r in rows[1:]]
    assert human["rho"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-5)
    assert human["evidence"]["human_adjusted"] == 1 and human["evidence"]["rejected"] == 1
    # The adjusted problem shows both weighted scores wherever it is listed.
    full = wb.whatif(ev, pool_of(rows), wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1), use_human=True), band=False, disagreement_limit=60)
    mine = [d for rows_ in full["disagreements"].values() for d in rows_ if d["id"] == 2]
    assert len(mine) == 1 and mine[0]["human_weighted"] == pytest.approx(x[0], abs=1e-3)
    assert all(d["human_weighted"] is None for rows_ in full["disagreements"].values() for d in rows_ if d["id"] != 2)


def test_fit_weights_is_constrained_and_cross_validated():
    rows = make_evidence(300)
    ev = wb.Evidence.from_rows(rows)
    out = wb.fit_weights(ev, wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1)))
    w = out["weights"]
    assert all(v >= 0 for v in w.values()) and sum(w.values()) == pytest.approx(1.0, abs=1e-6)
    assert w["algorithmic_thinking"] == max(w.values())
    assert out["rho_in_sample"] <= out["proposed_rho_in_sample"]  # better (more negative) than equal weights
    assert out["rho_cv"] is not None and out["folds"] == 5 and len(out["rho_cv_folds"]) == 5
    # Held-out rho is no better than in-sample rho by more than noise: it is an honest estimate.
    assert out["rho_cv"] >= out["rho_in_sample"] - 0.1


def test_disagreements_list_the_rows_furthest_from_the_curve():
    rows = make_evidence(200, noise=0.0)
    easy_looking = min(rows, key=lambda r: sum(r["scores"].values()))
    easy_looking["passes"] = 0  # predicted easy, never solved
    ev = wb.Evidence.from_rows(rows)
    out = wb.whatif(ev, pool_of(rows), wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1)), band=False)
    first = out["disagreements"]["predicted_easy_rarely_solved"][0]
    assert first["id"] == easy_looking["id"] and first["observed"] == 0.0 and first["residual"] < -0.5
    assert all(d["residual"] > 0 for d in out["disagreements"]["predicted_hard_often_solved"])


def test_bad_proposals_name_the_field():
    with pytest.raises(wb.WorkbenchError) as e:
        wb.proposal_from({**dict.fromkeys(DIMENSION_KEYS, 1), "mathematics": "x"})
    assert e.value.field == "weight_mathematics"
    with pytest.raises(wb.WorkbenchError) as e:
        wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 0))
    assert e.value.field == "weights"
    with pytest.raises(wb.WorkbenchError) as e:
        wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1), easy_min=0.1, hard_max=0.3)
    assert e.value.field == "hard_max"
    with pytest.raises(wb.WorkbenchError) as e:
        wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1), method="spline")
    assert e.value.field == "method"
    with pytest.raises(wb.WorkbenchError) as e:
        wb.policy_from({"policy": "keep_fraction", "keep_fraction": "2"})
    assert e.value.field == "keep_fraction"


def test_keep_fraction_keeps_the_hardest_share():
    items = [SelectionItem(id=str(i), pass_rate=i / 10, source="s") for i in range(10)] + [SelectionItem(id="u", pass_rate=None)]
    result = wb.select_any(items, wb.policy_from({"policy": "keep_fraction", "keep_fraction": "0.7"}), BucketThresholds())
    assert sorted(result.kept_ids) == sorted([str(i) for i in range(7)] + ["u"])
    hist = wb.histogram_by(result.decisions, "bucket")
    assert hist["easy"] == {"before": 2, "after": 0} and hist["hard"] == {"before": 2, "after": 2}


@pytest.mark.parametrize("seed", range(5))
def test_fast_spearman_equals_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, size=500).astype(float)  # many ties
    y = np.round(rng.random(500) * 4) / 4 - x / 20
    assert wb.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert np.isnan(wb.spearman(np.ones(10), y[:10]))


def test_reliability_is_held_out_for_isotonic():
    rows = make_evidence(300)
    ev = wb.Evidence.from_rows(rows)
    iso = wb.whatif(ev, pool_of(rows), wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1)), band=False)
    assert iso["reliability_held_out"] and sum(b["count"] for b in iso["reliability"]) == 300
    # Held out, the map is less perfectly calibrated than on its own rows.
    x = np.round(ev.model_scores @ np.full(5, 0.2), 9)
    y = ev.pass_rate()
    held = wb.held_out_predictions(x, y, ev.counts()[1])
    fitted = wb.calibration_core.fit_calibration(x, y, sample_weight=ev.counts()[1])
    in_sample = wb.predict(fitted, x)
    assert np.abs(held - y).mean() > np.abs(in_sample - y).mean()
    logistic = wb.whatif(ev, pool_of(rows), wb.proposal_from(dict.fromkeys(DIMENSION_KEYS, 1), method="logistic"), band=False)
    assert not logistic["reliability_held_out"]
