"""The workbench on the real shared data: 611 imported problems, the offline predictor's scores,
and a graded file written here. The page's rho must equal scipy's on the same rows."""
import json
import random

import pytest
from scipy import stats

from curation import workbench_selectors as wsel
from curation.models import Prediction, Problem
from curation.services import imports, pass_rates, prediction, stages

pytestmark = pytest.mark.django_db


def run_stage(stage, **kwargs):
    run = stages.stage_run_create(stage=stage, **kwargs)
    return stages.stage_run_execute(run.pk)


def test_page_rho_equals_scipy_on_real_problems(shared_data, tmp_path, client, django_user_model):
    for path, fmt in ((shared_data / "codecontests", "codecontests-dir"),
                      (shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz", "leetcodedataset")):
        imports.import_run_execute(imports.import_run_create(path=str(path), format_name=fmt).pk)
    assert run_stage("train_features").status == "succeeded"
    assert run_stage("predict", params={"predictor": "features"}).status == "succeeded"
    # A graded file for every third problem: 10 attempts each, the pass probability set by the
    # source's own label plus noise (not by our predictor, so rho is a measurement, not a plant).
    rng = random.Random(17)
    base = {"easy": 0.8, "medium": 0.45, "hard": 0.15}
    graded, truth = [], {}
    for p in Problem.objects.order_by("pk")[::3]:
        label = prediction.training_label(p) or "medium"
        prob = min(1.0, max(0.0, base[label] + rng.uniform(-0.25, 0.25)))
        results = [rng.random() < prob for _ in range(10)]
        graded.append({"question_id": p.external_id, "graded_list": results})
        truth[p.pk] = sum(results) / 10
    path = tmp_path / "graded.json"
    path.write_text(json.dumps({"model": "reasoner", "results": graded}))
    summary = pass_rates.pass_rates_import(path=str(path))
    assert summary["unmatched"] == []

    wsel.workbench_cache_clear()
    user = django_user_model.objects.create_user("viewer-real", password="x")
    from django.contrib.auth.models import Group

    from curation.services.accounts import roles_ensure

    roles_ensure()
    user.groups.add(Group.objects.get(name="viewer"))
    client.force_login(user)
    response = client.get("/calibration/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index(">", html.index('id="wb-data"')) + 1
    data = json.loads(html[start:html.index("</script>", start)])

    # Independently: the predictor's own weighted score per problem (from its Prediction row) and
    # the pass rate straight from the graded file.
    scores = dict(Prediction.objects.filter(status="ok", problem_id__in=truth).values_list("problem_id", "weighted_score"))
    pids = sorted(truth)
    expected = stats.spearmanr([scores[i] for i in pids], [truth[i] for i in pids]).statistic
    assert data["n"] == len(pids)
    assert data["rho"] == pytest.approx(expected, abs=1e-9)
    assert f'{expected:.3f}' in html
    assert data["rho"] < 0  # harder-scored problems are solved less often
    assert 'id="ev-imported">{}<'.format(len(pids)) in html and 'id="ev-measured">0<' in html
