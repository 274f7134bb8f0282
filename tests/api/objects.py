"""One object of every kind the API serves, so that detail endpoints have something to show."""
from __future__ import annotations

from curation.models import (
    Calibration,
    DifficultyRubric,
    ImportRun,
    Prediction,
    Review,
    Source,
    StageRun,
    VerificationRun,
    Verdict,
    Webhook,
    WebhookDelivery,
)
from curation.services.exports import export_create, export_execute
from curation.services.snapshots import selection_create, snapshot_create
from curation.services.webhooks import webhook_secret_generate


def seed_everything(users, problems) -> dict[str, int]:
    p = problems[0]
    rubric = DifficultyRubric.objects.create(version="v1", weights={"algorithmic_thinking": 0.3}, is_active=True)
    prediction = Prediction.objects.create(
        problem=p, rubric=rubric, predictor="llm", model="m", content_hash=p.content_hash,
        score_algorithmic_thinking=5, weighted_score=4.0, reasons={"algorithmic_thinking": "greedy"},
    )
    stage_run = StageRun.objects.create(stage="verify", status="succeeded", total=1, done=1)
    vrun = VerificationRun.objects.create(problem=p, stage_run=stage_run, outcome="verified", isolation="bwrap")
    Verdict.objects.create(verification_run=vrun, solution=p.solutions.first(), test=p.tests.first(), verdict="AC", time_ms=3.5)
    review = Review.objects.create(problem=p, reviewer=users["curator"], decision="accept", problem_version=1)
    import_run = ImportRun.objects.create(source=Source.objects.get(name="testsrc"), file_path="/tmp/x.jsonl", format="canonical-jsonl")
    selection = selection_create(name="sel", user=users["curator"], problem_ids=[p.pk])
    snapshot = snapshot_create(name="seeded", user=users["curator"])
    export = export_execute(export_create(snapshot=snapshot, format="parquet", user=users["curator"]).pk)
    webhook = Webhook.objects.create(url="http://127.0.0.1:9/h", secret=webhook_secret_generate(), events=["*"])
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="run.finished", message_id="msg_1", payload={"a": 1})
    calibration = Calibration.objects.create(version="seeded", rubric=rubric, weights=rubric.weights, fitted={"method": "isotonic"})
    from training_jobs.models import ComputeTarget
    from training_jobs.services.runs import recipe_create, training_run_create

    target = ComputeTarget.objects.create(name="seeded", kind="local", options={"jobs_root": "var/seeded-jobs"})
    recipe = recipe_create(name="seeded", framework="trl", algorithm="grpo", base_model="tiny-random:qwen2",
                           params={"total_steps": 2}, user=users["admin"])
    training_run = training_run_create(user=users["admin"], name="seeded", train_snapshot=snapshot, recipe=recipe,
                                       target=target)
    from evaluations.models import EvalProblem, EvalRun, EvalSample

    eval_run = EvalRun.objects.create(name="seeded", model_name="seeded-model", base_url="http://127.0.0.1:9/v1",
                                      n_samples=1, problem_count=1)
    eval_problem = EvalProblem.objects.create(run=eval_run, problem=p, question_id=p.external_id, title=p.title, n=1, c=1)
    EvalSample.objects.create(run=eval_run, eval_problem=eval_problem, index=0, answer="```python\nprint(1)\n```",
                              code="print(1)", language="python3", verdict="AC", passed=True)
    other_run = EvalRun.objects.create(name="seeded-2", model_name="other-model", base_url="http://127.0.0.1:9/v1",
                                       n_samples=1, problem_count=0)
    return {
        "evaluations": eval_run.pk,
        "evaluations-other": other_run.pk,
        "training-runs": training_run.pk,
        "compute-targets": target.pk,
        "calibrations": calibration.pk,
        "problems": p.pk,
        "tests": p.tests.first().pk,
        "solutions": p.solutions.first().pk,
        "predictions": prediction.pk,
        "verification-runs": vrun.pk,
        "reviews": review.pk,
        "selections": selection.pk,
        "snapshots": snapshot.pk,
        "exports": export.pk,
        "import-runs": import_run.pk,
        "stage-runs": stage_run.pk,
        "webhooks": webhook.pk,
        "webhook-deliveries": delivery.pk,
    }

