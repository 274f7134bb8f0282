"""The calibration and selection-preview endpoints: schema, roles, validation, results."""
import random

import pytest
from scipy import stats

from curation import workbench_selectors as wsel
from curation.models import AuditEvent, Calibration, PassRateMeasurement, StageRun

from .conftest import make_problem

pytestmark = pytest.mark.django_db
DIMS = ("algorithmic_thinking", "implementation", "mathematics", "data_structures", "edge_cases")
WEIGHTS = {"algorithmic_thinking": 2, "implementation": 1, "mathematics": 1, "data_structures": 0, "edge_cases": 1}


@pytest.fixture
def evidence(db):
    wsel.workbench_cache_clear()
    rng = random.Random(5)
    out = []
    for i in range(25):
        s = {f"score_{d}": float(rng.randint(1, 10)) for d in DIMS}
        p = make_problem(f"e{i}", n_tests=1, calibrated_pass_rate=rng.random(), **s)
        PassRateMeasurement.objects.create(problem=p, model="m", samples=4, passes=rng.randint(0, 4))
        out.append(p)
    yield out
    wsel.workbench_cache_clear()


def test_schema_lists_the_workbench_endpoints(api):
    schema = api("viewer").get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/calibrations/", "/api/v1/calibrations/{id}/", "/api/v1/calibrations/whatif/",
                 "/api/v1/calibrations/fit/", "/api/v1/calibrations/{id}/activate/", "/api/v1/selection-previews/"):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/selection-previews/"]


def test_whatif_rho_matches_scipy_and_errors_name_the_field(api, evidence):
    r = api("viewer").post("/api/v1/calibrations/whatif/", {"weights": WEIGHTS}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    xs = [round(sum(WEIGHTS[d] / 5 * getattr(p, f"score_{d}") for d in DIMS), 9) for p in evidence]
    ys = [p.pass_rates.get().pass_rate for p in evidence]
    assert body["n"] == 25 and body["rho"] == pytest.approx(stats.spearmanr(xs, ys).statistic, abs=1e-9)
    assert sum(body["counts"].values()) == 25 and body["reliability_held_out"] is False  # 25 rows: too few to hold out
    r = api("viewer").post("/api/v1/calibrations/whatif/", {"weights": {**WEIGHTS, "mathematics": -1}}, format="json")
    assert r.status_code == 400 and r.json()["message"].startswith("weights")
    r = api("viewer").post("/api/v1/calibrations/whatif/", {"weights": dict.fromkeys(DIMS, 1), "hard_max": 0.9}, format="json")
    assert r.status_code == 400 and r.json()["message"].startswith("hard_max")
    assert api("anon").post("/api/v1/calibrations/whatif/", {"weights": WEIGHTS}, format="json").status_code == 401


def test_fit_save_list_activate(api, evidence, django_capture_on_commit_callbacks):
    r = api("viewer").post("/api/v1/calibrations/fit/", {"weights": WEIGHTS}, format="json")
    assert r.status_code == 200
    fit = r.json()
    assert sum(fit["weights"].values()) == pytest.approx(1, abs=1e-6) and fit["folds"] >= 2 and "rho_cv" in fit
    assert api("viewer").post("/api/v1/calibrations/", {"weights": WEIGHTS}, format="json").status_code == 403
    r = api("curator").post("/api/v1/calibrations/", {"weights": fit["weights"], "label": "fitted", "method": "logistic"}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["label"] == "fitted" and body["method"] == "logistic" and body["created_by"] == "curator_user"
    assert body["evidence"]["n"] == 25 and not body["is_active"]
    assert AuditEvent.objects.filter(action="calibration_version_save", target_id=str(body["id"])).exists()
    listed = api("viewer").get("/api/v1/calibrations/").json()["results"]
    assert [c["id"] for c in listed] == [body["id"]]
    assert api("curator").post(f"/api/v1/calibrations/{body['id']}/activate/").status_code == 403
    with django_capture_on_commit_callbacks(execute=False):
        r = api("admin").post(f"/api/v1/calibrations/{body['id']}/activate/")
    assert r.status_code == 202 and StageRun.objects.get(pk=r.json()["id"]).stage == "calibration_activate"
    assert Calibration.objects.count() == 1


def test_selection_preview(api, evidence):
    r = api("viewer").post("/api/v1/selection-previews/", {"policy": "keep_fraction", "keep_fraction": 0.6}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["kept"] == 15 and body["total"] == 25 and body["entering_count"] == 15
    assert sum(v["before"] for v in body["by_source"].values()) == 25
    r = api("viewer").post("/api/v1/selection-previews/", {"policy": "cutoff", "max_pass_rate": 2}, format="json")
    assert r.status_code == 400 and r.json()["message"].startswith("max_pass_rate")
