"""All of it for real on the local executor: a tiny TRL GRPO run that evaluates every 2 steps saves
checkpoint-2 and checkpoint-3; the poller records them, checkpoint-2 alone gets an evaluation; that
evaluation serves the checkpoint TRL wrote with `transformers serve`, evaluates it and stops the job;
the run page plots it."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client

from evaluations.models import EvalRun, EvalSample
from evaluations.services import eval_run_execute
from tests.api.conftest import make_problem
from training_jobs.services import launch
from training_jobs.services.runs import recipe_create, training_run_create

from .helpers import TINY_PARAMS, wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.training]


def test_a_training_run_evaluates_its_checkpoints_on_schedule(real_snapshot, local_target, trainer, users, settings,
                                                              django_capture_on_commit_callbacks):
    settings.VERIFY_PARALLELISM = 2
    make_problem("bench1", source="lcb", is_benchmark=True, benchmark_name="tiny-bench", difficulty_label="easy",
                 contest_date=dt.date(2024, 9, 1))
    recipe = recipe_create(name="tiny", framework="trl", algorithm="dapo", base_model="tiny-random:qwen2",
                           params=TINY_PARAMS, user=trainer)
    run = training_run_create(user=trainer, name="tiny-sched", train_snapshot=real_snapshot, recipe=recipe,
                              target=local_target, eval_every=2, eval_benchmark="tiny-bench",
                              eval_options={"n_samples": 2, "max_tokens": 8, "temperature": 1.0})
    launch.training_attempt_submit(run.attempts.get().pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = wait_for(run, {"succeeded", "failed", "lost"})
    assert run.status == "succeeded", run.attempts.get().log_tail[-3000:]
    assert sorted(run.checkpoints.values_list("step", flat=True)) == [2, 3]
    evaluation = EvalRun.objects.get(checkpoint__run=run)
    assert evaluation.checkpoint.step == 2 and evaluation.scheduled and evaluation.status == "pending"
    assert len(callbacks) >= 2  # the evaluation's task and the run's webhook, after commit

    # What the Celery task would do: serve the checkpoint TRL wrote, evaluate it, stop the server.
    evaluation = eval_run_execute(evaluation.pk)
    evaluation.refresh_from_db()
    assert evaluation.status == "succeeded", (evaluation.message, evaluation.serve_log_tail[-3000:])
    assert EvalSample.objects.filter(run=evaluation, status="judged").count() == 2
    assert evaluation.serve_state == "stopped" and evaluation.summary["overall"]["pass@1"]["value"] == 0.0

    client = Client()
    client.force_login(users["viewer"])
    page = client.get(f"/training/{run.pk}/").content.decode()
    data = json.loads(re.search(r'<script id="checkpoint-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert data["steps"] == [2] and data["series"]["all"] == [0.0] and data["evaluations"] == [evaluation.pk]
    assert f'href="/evaluations/{evaluation.pk}/"' in page
