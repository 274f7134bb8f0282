"""The calibration workbench and selection pages through Django's test client (SQLite/PostgreSQL)."""
import json
import random

import pytest
from scipy import stats

from curation import workbench_selectors as wsel
from curation.models import AuditEvent, Calibration, DifficultyRubric, PassRateMeasurement, Prediction, Problem, Selection, StageRun
from curation.services import stages

from .conftest import client_for

DIMS = ("algorithmic_thinking", "implementation", "mathematics", "data_structures", "edge_cases")
WEIGHTS = {"algorithmic_thinking": 0.3, "implementation": 0.2, "mathematics": 0.15, "data_structures": 0.15, "edge_cases": 0.2}


@pytest.fixture(autouse=True)
def fresh_cache():
    wsel.workbench_cache_clear()
    yield
    wsel.workbench_cache_clear()


@pytest.fixture
def evidence(make_problem):
    """40 scored problems, 30 with pass rates (20 measured, 10 imported), two sources."""
    from curation.models import Source

    rng = random.Random(3)
    other = Source.objects.get_or_create(name="othersrc")[0]
    problems = []
    for i in range(40):
        scores = [rng.randint(1, 10) for _ in DIMS]
        functional = {"io_format": "functional", "function_name": "solve"} if i % 3 == 0 else {}
        p = make_problem(scores=scores, source=other, **functional) if i % 2 else make_problem(scores=scores, **functional)
        p.weighted_score = sum(WEIGHTS[d] * s for d, s in zip(DIMS, scores))
        p.save()
        problems.append(p)
        if i < 30:
            rate = max(0.0, min(1.0, 1.1 - p.weighted_score / 8 + rng.uniform(-0.2, 0.2)))
            passes = round(rate * 10)
            PassRateMeasurement.objects.create(problem=p, model="ref", samples=10, passes=passes,
                                               origin="imported" if i >= 20 else "measured")
    return problems


def query(**overrides):
    q = {f"weight_{d}": w for d, w in WEIGHTS.items()}
    q.update({"method": "isotonic", "easy_min": 0.8, "hard_max": 0.2, "origins": ["measured", "imported"]})
    q.update(overrides)
    return q


def scipy_rho(weights, origin=None):
    xs, ys = [], []
    total = sum(weights.values())
    for m in PassRateMeasurement.objects.select_related("problem").order_by("problem_id"):
        if origin and m.origin != origin:
            continue
        p = m.problem
        xs.append(round(sum(weights[d] / total * getattr(p, f"score_{d}") for d in DIMS), 9))
        ys.append(m.passes / m.samples)
    return stats.spearmanr(xs, ys).statistic


def page_data(response, name="wb-data"):
    html = response.content.decode()
    start = html.index(f'id="{name}"')
    start = html.index(">", start) + 1
    return json.loads(html[start:html.index("</script>", start)])


def test_page_shows_rho_equal_to_scipy_and_evidence_apart(client, users, evidence):
    client_for(client, users["viewer"])
    r = client.get("/calibration/", query())
    assert r.status_code == 200
    data = page_data(r)
    assert data["n"] == 30
    assert data["rho"] == pytest.approx(scipy_rho(WEIGHTS), abs=1e-9)
    html = r.content.decode()
    assert f'{data["rho"]:.3f}' in html
    assert 'id="ev-measured">20<' in html and 'id="ev-imported">10<' in html
    assert "HX-Request" in r.headers["Vary"]
    # Only the imported rows: n and rho follow.
    r = client.get("/calibration/", query(origins=["imported"]))
    data = page_data(r)
    assert data["n"] == 10 and data["rho"] == pytest.approx(scipy_rho(WEIGHTS, "imported"), abs=1e-9)


def test_whatif_partial_recomputes_for_proposed_weights(client, users, evidence):
    client_for(client, users["viewer"])
    proposed = {**WEIGHTS, "algorithmic_thinking": 3.0}
    r = client.get("/calibration/", query(weight_algorithmic_thinking=3.0), headers={"HX-Request": "true", "HX-Target": "wb-results"})
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    html = r.content.decode()
    assert html.lstrip().startswith('<div id="wb-results"') and "<h1>" not in html
    data = page_data(r)
    assert data["rho"] == pytest.approx(scipy_rho(proposed), abs=1e-9)
    assert sum(data["counts"].values()) == 40  # every scored problem is bucketed
    r = client.get("/calibration/", query(easy_min=0.3, hard_max=0.1), headers={"HX-Request": "true", "HX-Target": "wb-results"})
    wide = page_data(r)["counts"]
    assert wide["easy"] >= data["counts"]["easy"]


def test_bad_input_names_the_field(client, users, evidence):
    client_for(client, users["viewer"])
    r = client.get("/calibration/", query(weight_mathematics="-1"))
    assert r.status_code == 400 and "weight_mathematics" in r.content.decode()
    r = client.get("/calibration/", query(easy_min=0.1, hard_max=0.5))
    assert r.status_code == 400 and "hard_max" in r.content.decode()


def test_fit_weights_reports_cross_validated_rho(client, users, evidence):
    client_for(client, users["viewer"])
    r = client.get("/calibration/", query(fit="1"), headers={"HX-Request": "true", "HX-Target": "workbench"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="fit-rho-cv"' in html and 'id="fit-rho"' in html
    values = {}
    for d in DIMS:
        marker = f'id="id_weight_{d}" value="'
        i = html.index(marker) + len(marker)
        values[d] = float(html[i:html.index('"', i)])
    assert all(v >= 0 for v in values.values()) and sum(values.values()) == pytest.approx(1.0, abs=1e-3)
    assert values != pytest.approx(WEIGHTS)


def test_save_version_activate_and_diff(client, users, evidence, django_capture_on_commit_callbacks):
    client_for(client, users["curator"])
    r = client.post("/calibration/save/", query(label="maths heavier", weight_mathematics=0.5))
    assert r.status_code == 302
    row = Calibration.objects.get(label="maths heavier")
    assert not row.is_active and row.created_by == users["curator"] and row.n_points == 30
    assert row.weights["mathematics"] == pytest.approx(0.5 / 1.35)
    assert row.evidence["origins"] == ["measured", "imported"] and row.metrics["rho"] == pytest.approx(row.spearman_rho)
    assert row.rubric.weights["mathematics"] == pytest.approx(0.5 / 1.35)
    event = AuditEvent.objects.get(action="calibration_version_save")
    assert event.target_id == str(row.pk) and event.actor == users["curator"]
    client.post("/calibration/save/", query(label="logistic", method="logistic"))
    second = Calibration.objects.get(label="logistic")
    assert second.rubric_id != row.rubric_id
    # Curators may not activate: that re-buckets everything.
    assert client.post(f"/calibration/{row.pk}/activate/").status_code == 403
    client_for(client, users["admin"])
    with django_capture_on_commit_callbacks(execute=False):
        r = client.post(f"/calibration/{row.pk}/activate/")
    run = StageRun.objects.get(stage="calibration_activate")
    assert r.status_code == 302 and r["Location"] == f"/jobs/{run.pk}/"
    stages.stage_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.errors
    row.refresh_from_db()
    assert row.is_active and DifficultyRubric.objects.get(is_active=True) == row.rubric
    assert Problem.objects.filter(calibrated_pass_rate__isnull=False).count() == 40
    p = Problem.objects.first()
    assert p.weighted_score == pytest.approx(sum(row.rubric.weights[d] * getattr(p, f"score_{d}") for d in DIMS))
    # The page now starts from the active version; the diff shows the weight change.
    r = client.get("/calibration/")
    assert f'id="active-version">{row.version}<' in r.content.decode()
    r = client.get("/calibration/diff/", {"a": second.pk, "b": row.pk}, headers={"HX-Request": "true", "HX-Target": "wb-diff"})
    html = r.content.decode()
    assert r.status_code == 200 and html.lstrip().startswith('<div id="wb-diff"')
    assert "logistic" in html and "isotonic" in html and "mathematics" in html


def test_viewer_cannot_save(client, users, evidence):
    client_for(client, users["viewer"])
    assert client.post("/calibration/save/", query()).status_code == 403
    assert "save-version" not in client.get("/calibration/").content.decode()


def test_human_evidence_switch(client, users, evidence):
    client_for(client, users["viewer"])
    rejected = evidence[0]
    Problem.objects.filter(pk=rejected.pk).update(review_status="rejected")
    adjusted = evidence[1]
    Prediction.objects.create(problem=adjusted, rubric=DifficultyRubric.objects.create(version="v1", weights=WEIGHTS), predictor="llm", model="m",
                              content_hash="x", **{f"score_{d}": getattr(adjusted, f"score_{d}") for d in DIMS})
    Problem.objects.filter(pk=adjusted.pk).update(score_mathematics=10.0)
    off = page_data(client.get("/calibration/", query()))
    on = page_data(client.get("/calibration/", query(use_human="1")))
    assert off["n"] == 30 and on["n"] == 29
    html = client.get("/calibration/", query(use_human="1")).content.decode()
    assert "1 adjusted scores" in html and "1 rejected" in html


def test_disagreements_open_into_review(client, users, evidence):
    client_for(client, users["curator"])
    html = client.get("/calibration/", query()).content.decode()
    i = html.index('id="dis-predicted_easy_rarely_solved"')
    j = html.index('data-problem="', i) + len('data-problem="')
    pid = int(html[j:html.index('"', j)])
    r = client.post(f"/review/{pid}/take/")
    assert r.status_code == 302 and r["Location"] == "/review/"
    assert f'data-problem="{pid}"' in client.get("/review/").content.decode()


def test_selection_preview_apply_and_snapshot(client, users, evidence, django_capture_on_commit_callbacks):
    for p in evidence:
        p.calibrated_pass_rate = max(0.0, 1 - p.weighted_score / 10)
        p.save()
    client_for(client, users["curator"])
    r = client.get("/selection/", {"policy": "keep_fraction", "keep_fraction": "0.5"}, headers={"HX-Request": "true", "HX-Target": "sel-preview"})
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    data = page_data(r, "sel-data")
    assert sum(c["after"] for c in data["by_bucket"].values()) == 20
    assert sum(c["before"] for c in data["by_source"].values()) == 40
    assert 'id="sel-entering">20<' in r.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        r = client.post("/selection/apply/", {"policy": "keep_fraction", "keep_fraction": "0.5", "name": "hard half"})
    run = StageRun.objects.get(stage="selection_apply")
    stages.stage_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.errors
    sel = Selection.objects.get(name="hard half")
    assert sel.version == 1 and sel.is_current and sel.problems.count() == 20
    kept_rates = sorted(sel.problems.values_list("calibrated_pass_rate", flat=True))
    all_rates = sorted(Problem.objects.values_list("calibrated_pass_rate", flat=True))
    assert kept_rates == all_rates[:20]
    assert AuditEvent.objects.filter(action="selection_version_apply", target_id=str(sel.pk)).exists()
    # Against the current selection, a wider policy only adds problems.
    r = client.get("/selection/", {"policy": "keep_fraction", "keep_fraction": "0.75"}, headers={"HX-Request": "true", "HX-Target": "sel-preview"})
    html = r.content.decode()
    assert 'id="sel-entering">10<' in html and 'id="sel-leaving">0<' in html
    r = client.post(f"/selection/{sel.pk}/snapshot/", {"name": "hard-half"})
    assert r.status_code == 302
    assert sel.snapshots.get().problem_count == 20
    r = client.get("/selection/", {"policy": "keep_fraction", "keep_fraction": "3"})
    assert r.status_code == 400 and "keep_fraction" in r.content.decode()
