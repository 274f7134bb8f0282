"""The difficulty stage end to end against the database: train, predict (features and a real
HTTP OpenAI-protocol server), pass rates, calibration, selection."""
import json

import pytest

from curation.models import Calibration, DifficultyModel, PassRateMeasurement, Prediction, Problem, Selection, StageRun
from curation.services import imports, pass_rates, rubrics, stages
from curation.services import selection as selection_services
from tests.fixtures.openai_server import OpenAITestServer

pytestmark = pytest.mark.django_db


def run_stage(stage, **kwargs):
    run = stages.stage_run_create(stage=stage, **kwargs)
    return stages.stage_run_execute(run.pk)


@pytest.fixture
def problems(shared_data):
    for path, fmt in ((shared_data / "codecontests", "codecontests-dir"),
                      (shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz", "leetcodedataset")):
        imports.import_run_execute(imports.import_run_create(path=str(path), format_name=fmt).pk)
    assert Problem.objects.count() == 383 + 228


def test_features_model_trains_predicts_and_shows_cv_accuracy(problems):
    run = run_stage("train_features")
    assert run.status == "succeeded", run.errors
    model = DifficultyModel.objects.get(is_active=True)
    assert model.n_train == 611 and 0.45 < model.cv_accuracy < 1.0
    assert run.counts["cv_accuracy"] == model.cv_accuracy

    ids = list(Problem.objects.order_by("pk").values_list("pk", flat=True)[:40])
    run = run_stage("predict", problem_ids=ids, params={"predictor": "features"})
    assert run.status == "succeeded" and run.counts["ok"] == 40
    p = Problem.objects.get(pk=ids[0])
    assert all(1 <= s <= 10 for s in p.scores().values())
    assert p.weighted_score == pytest.approx(sum(w * p.scores()[d] for d, w in rubrics.rubric_active().weights.items()))
    assert Prediction.objects.filter(problem=p, predictor="features").count() == 1


def test_llm_predictions_are_cached_in_the_database_and_failures_stay_failed(problems):
    ids = list(Problem.objects.order_by("pk").values_list("pk", flat=True)[:12])
    victim = Problem.objects.get(pk=ids[3])
    with OpenAITestServer() as server:
        # The victim's answers are malformed twice: retried once with the error shown, then failed.
        server.add_fault("malformed", match=victim.statement[:60], times=2)
        params = {"predictor": "llm", "base_url": server.url, "model": "fake-model", "concurrency": 4}
        run = run_stage("predict", problem_ids=ids, params=params)
        assert run.status == "partial"
        assert (run.counts["ok"], run.counts["failed"]) == (11, 1)
        assert run.prompt_tokens > 0 and run.completion_tokens > 0
        assert run.errors[0]["record"] == f"problem {victim.pk}"
        victim.refresh_from_db()
        assert victim.weighted_score is None and victim.score_algorithmic_thinking is None
        failed = Prediction.objects.get(problem=victim, stage_run=run)
        assert failed.status == "failed" and failed.score_algorithmic_thinking is None

        first_requests = len(server.requests)
        again = run_stage("predict", problem_ids=ids, params=params)
        # Only the failed problem costs a call; the rest come from the cache.
        assert again.counts["cached"] == 11
        assert len(server.requests) - first_requests == 1
        assert again.counts["ok"] == 12


def test_pass_rates_calibration_and_selection(problems, tmp_path):
    run_stage("train_features")
    run_stage("predict", params={"predictor": "features"})
    scored = list(Problem.objects.filter(weighted_score__isnull=False).order_by("weighted_score"))
    assert len(scored) == 611
    # Graded results whose pass rate falls with the weighted score: a planted ordering.
    graded = []
    for rank, p in enumerate(scored[::5]):
        passes = round(10 * (1 - rank / (len(scored) / 5)))
        graded.append({"question_id": p.external_id, "graded_list": [True] * passes + [False] * (10 - passes)})
    path = tmp_path / "graded.json"
    path.write_text(json.dumps({"model": "reference-model", "results": graded}))
    summary = pass_rates.pass_rates_import(path=str(path))
    assert summary["matched"] == len(graded) and PassRateMeasurement.objects.filter(origin="imported").exists()

    run = run_stage("calibrate", params={"method": "isotonic"})
    assert run.status == "succeeded", run.errors
    cal = Calibration.objects.get(is_active=True)
    assert cal.spearman_rho < -0.9  # higher weighted score, lower pass rate
    assert Problem.objects.filter(calibrated_pass_rate__isnull=False).count() == 611
    hardest = Problem.objects.order_by("-weighted_score").first()
    easiest = Problem.objects.order_by("weighted_score").first()
    assert hardest.calibrated_pass_rate <= easiest.calibrated_pass_rate
    assert (easiest.bucket, hardest.bucket) == ("easy", "hard")

    preview = selection_services.selection_preview({"policy": "target_easy_share", "target_easy_share": 0.2})
    buckets = {b: Problem.objects.filter(bucket=b, is_duplicate=False).count() for b in ("easy", "medium", "hard")}
    non_easy = buckets["medium"] + buckets["hard"]
    assert preview["by_bucket"]["hard"] == {"kept": buckets["hard"], "dropped": 0}
    assert preview["by_bucket"]["easy"]["kept"] == min(buckets["easy"], int(0.2 * non_easy / 0.8 + 1e-9))
    assert preview["easy_share_after"] <= 0.2
    assert Selection.objects.count() == 0  # a preview stores nothing

    run = run_stage("select", params={"name": "hard-70", "policy": "target_easy_share", "target_easy_share": 0.2})
    selection = Selection.objects.get(name="hard-70")
    assert selection.problems.count() == preview["kept"]
    assert StageRun.objects.get(pk=run.pk).counts["selection"] == selection.pk
