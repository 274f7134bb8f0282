"""A checkpoint served for an evaluation through a real Ray head (Jobs REST API) and a real
single-node Slurm: the same code path as the local executor (submit, status, logs, cancel) — the
job advertises its node's address in endpoint.json, answers the evaluation and is stopped after."""
from __future__ import annotations

import datetime as dt
import subprocess

import httpx
import pytest
from django.conf import settings

from curation.services.snapshots import snapshot_create
from evaluations.models import EvalSample
from evaluations.services import eval_run_create, eval_run_execute
from tests.api.conftest import make_problem
from training_jobs.executors import JobState
from training_jobs.models import Checkpoint, Recipe, TrainingRun
from training_jobs.services.launch import target_executor

pytestmark = [pytest.mark.django_db, pytest.mark.training]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, train_python) -> str:
    out = tmp_path_factory.mktemp("served-checkpoint")
    subprocess.run([train_python, "-m", "tests.fixtures.tiny_chat_model", str(out)], cwd=settings.BASE_DIR,
                   check=True, timeout=300)
    return str(out)


@pytest.mark.parametrize("backend", ("ray_target", "slurm_target"))
def test_a_checkpoint_is_served_on_a_cluster_and_stopped(request, backend, tiny_model, users, settings):
    settings.VERIFY_PARALLELISM = 2
    settings.EVAL_SERVE_TIMEOUT_S = 240
    target = request.getfixturevalue(backend)
    target.options = {**target.options, "serve_device": "cpu", "env": {"OMP_NUM_THREADS": "1"}}
    target.save()
    make_problem("sv1", source="lcb", is_benchmark=True, benchmark_name="served", difficulty_label="easy",
                 contest_date=dt.date(2024, 9, 1))
    training = TrainingRun.objects.create(name="cluster-run", train_snapshot=snapshot_create(name="s", user=users["curator"]),
                                          recipe=Recipe.objects.create(name="r", base_model="tiny"), target=target)
    checkpoint = Checkpoint.objects.create(run=training, step=10, path=tiny_model)
    run = eval_run_create(user=users["curator"], model_name="", base_url="", checkpoint=checkpoint,
                          benchmark_name="served", n_samples=2, max_tokens=8, concurrency=2, enqueue=False)
    run = eval_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", (run.message, run.serve_message, run.serve_log_tail[-2000:])
    assert EvalSample.objects.filter(run=run, status="judged").count() == 2
    assert run.serve_external_id and run.serve_state in ("stopped", JobState.CANCELLED), run.serve_state
    # The cluster says the job ended, and the server no longer answers.
    state = target_executor(target).status(run.serve_external_id, job_dir=run.serve_job_dir).state
    for _ in range(60):
        if state in JobState.TERMINAL:
            break
        import time

        time.sleep(0.5)
        state = target_executor(target).status(run.serve_external_id, job_dir=run.serve_job_dir).state
    assert state in (JobState.CANCELLED, JobState.FAILED), state
    with pytest.raises(httpx.HTTPError):
        httpx.get(run.base_url.removesuffix("/v1") + "/health", timeout=2)
