"""Scheduled evaluations during training: a run that evaluates every N steps gets one evaluation per
checkpoint whose step N divides, created when the checkpoint is recorded and started after commit;
the training run page plots pass@1 by difficulty against step and links every evaluation."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from curation.services.snapshots import snapshot_create
from evaluations.models import EvalRun
from training_jobs.models import ComputeTarget, TrainingEvent, TrainingRun
from training_jobs.services.launch import checkpoint_record, checkpoints_scan
from training_jobs.services.runs import TrainingInputError, recipe_create, training_run_create

OPTIONS = {"n_samples": 3, "temperature": 0.6, "top_p": 0.9, "max_tokens": 512, "date_from": "2024-09-01",
           "date_to": "2024-09-30"}


@pytest.fixture
def trainer(users):
    user = get_user_model().objects.create_user("trainer_user", password="pw")
    user.groups.add(Group.objects.get(name="trainer"))
    return user


@pytest.fixture
def scheduled_run(bench, users, trainer, tmp_path) -> TrainingRun:
    target = ComputeTarget.objects.create(name="local", kind="local", options={"jobs_root": str(tmp_path / "jobs")})
    recipe = recipe_create(name="r", framework="trl", algorithm="grpo", base_model="tiny-random:qwen2",
                           params={"total_steps": 10, "n_gpus_per_node": 0}, user=trainer)
    return training_run_create(user=trainer, name="sched", train_snapshot=snapshot_create(name="s", user=users["curator"]),
                               recipe=recipe, target=target, launch=False, eval_every=2, eval_benchmark="lcb-v6",
                               eval_options=OPTIONS)


def test_checkpoints_on_the_schedule_get_an_evaluation_started_after_commit(scheduled_run, tmp_path,
                                                                            django_capture_on_commit_callbacks):
    run = scheduled_run
    assert (run.eval_every, run.eval_benchmark) == (2, "lcb-v6") and run.eval_options["n_samples"] == 3
    out = tmp_path / "out"
    for step in (1, 2, 3, 4):
        (out / f"checkpoint-{step}").mkdir(parents=True)
    run.output_dir = str(out)
    run.save(update_fields=["output_dir"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        checkpoints_scan(run, None)
    evals = list(EvalRun.objects.filter(checkpoint__run=run).select_related("checkpoint").order_by("checkpoint__step"))
    assert [e.checkpoint.step for e in evals] == [2, 4]
    assert len(callbacks) == 2  # each evaluation's task goes out after commit
    for e in evals:
        assert e.scheduled and e.serve_checkpoint and e.status == "pending" and e.base_url == ""
        assert e.model_name == e.checkpoint.path and e.benchmark_name == "lcb-v6"
        assert (e.n_samples, e.temperature, e.top_p, e.max_tokens) == (3, 0.6, 0.9, 512)
        assert (e.date_from, e.date_to) == (dt.date(2024, 9, 1), dt.date(2024, 9, 30))
        assert e.total == 2 * 3  # e1 and e2 are the window's problems
        assert e.created_by == run.created_by
    # A rescan, or the same step recorded again, starts nothing new.
    with django_capture_on_commit_callbacks(execute=False) as again:
        checkpoints_scan(run, None)
        checkpoint_record(run, step=4, path=str(out / "checkpoint-4"))
    assert again == [] and EvalRun.objects.filter(checkpoint__run=run).count() == 2


def test_a_schedule_that_cannot_run_is_refused_at_launch_and_reported_later(scheduled_run, users, trainer, tmp_path):
    run = scheduled_run
    with pytest.raises(TrainingInputError) as exc:
        training_run_create(user=trainer, name="bad", train_snapshot=run.train_snapshot, recipe=run.recipe,
                            target=run.target, launch=False, eval_every=5, eval_benchmark="no-such-benchmark")
    assert exc.value.field == "eval_benchmark"
    with pytest.raises(TrainingInputError) as exc:
        training_run_create(user=trainer, name="bad", train_snapshot=run.train_snapshot, recipe=run.recipe,
                            target=run.target, launch=False, eval_every=5, eval_options={"temperature": 7})
    assert exc.value.field == "eval_temperature"
    # Valid at launch, but the checkpoint folder is not on this machine when it is recorded: the
    # training run goes on, its timeline says why the step has no evaluation.
    checkpoint_record(run, step=6, path=str(tmp_path / "gone"))
    assert not EvalRun.objects.filter(checkpoint__run=run).exists()
    event = TrainingEvent.objects.filter(run=run).latest("id")
    assert "scheduled evaluation of step 6 not started" in event.message and "does not exist" in event.message


def test_the_training_run_page_plots_pass_at_1_against_step(scheduled_run, users, tmp_path):
    run = scheduled_run
    summaries = {2: (0.25, {"easy": 0.5, "hard": 0.0}), 4: (0.5, {"easy": 0.75, "hard": 0.25})}
    made = {}
    for step, (overall, by_label) in summaries.items():
        folder = tmp_path / f"ck{step}"
        folder.mkdir()
        checkpoint, _ = checkpoint_record(run, step=step, path=str(folder))
        e = EvalRun.objects.get(checkpoint=checkpoint)
        e.status = "succeeded"
        e.summary = {"ks": [1], "overall": {"pass@1": {"value": overall}},
                     "by": {"label": {g: {"pass@1": {"value": v}} for g, v in by_label.items()}}}
        e.save()
        made[step] = e
    running, _ = checkpoint_record(run, step=8, path=str(tmp_path))  # not finished: listed, not plotted
    client = Client()
    client.force_login(users["viewer"])
    page = client.get(f"/training/{run.pk}/").content.decode()
    data = json.loads(re.search(r'<script id="checkpoint-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert data["steps"] == [2, 4]
    assert data["series"] == {"all": [0.25, 0.5], "easy": [0.5, 0.75], "hard": [0.0, 0.25]}
    assert data["evaluations"] == [made[2].pk, made[4].pk]
    assert 'id="chart-steps"' in page and "evaluations.js" in page
    pending = EvalRun.objects.get(checkpoint=running)
    for e in (made[2], made[4], pending):
        assert f'href="/evaluations/{e.pk}/"' in page
    assert "Every 2 steps on lcb-v6" in page


def test_checkpoint_curve_of_an_impossible_id_is_empty(api, users):
    # Found by schemathesis: an id past 64 bits reached the database and failed with a 500.
    response = api("viewer").get("/api/v1/evaluations/checkpoint-curve/?training_run=1418411460218565165056")
    assert response.status_code == 200 and response.json()["steps"] == []
