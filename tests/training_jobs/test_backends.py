"""The same run through a real Ray head (Jobs REST API, no `ray` import in the app) and a real
single-node Slurm: success with metrics, cancel mid-run, a retried submit that does not launch
twice, and health checks."""
from __future__ import annotations

import time

import pytest

from training_jobs.executors import JobState
from training_jobs.models import MetricPoint
from training_jobs.services import launch
from training_jobs.services.runs import training_run_cancel

from .helpers import tiny_run, wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.training]
BACKENDS = ("ray_target", "slurm_target")


@pytest.mark.parametrize("backend", BACKENDS)
def test_trl_run_succeeds_with_metrics(request, backend, real_snapshot, trainer):
    target = request.getfixturevalue(backend)
    assert launch.target_health_check(target)["ok"] is True
    run = tiny_run(trainer, real_snapshot, target)
    attempt = run.attempts.get()
    launch.training_attempt_submit(attempt.pk)
    attempt.refresh_from_db()
    assert attempt.external_id
    run = wait_for(run, {"succeeded", "failed", "lost", "cancelled"})
    attempt.refresh_from_db()
    assert run.status == "succeeded", (attempt.message, attempt.log_tail[-3000:])
    assert sorted(MetricPoint.objects.filter(run=run, key="reward_mean").values_list("step", flat=True)) == [1, 2, 3]
    assert "train_runtime" in attempt.log_tail or "train_runtime" in set(
        MetricPoint.objects.filter(run=run).values_list("key", flat=True))
    # Submitting the same attempt again finds the job the first submit launched.
    executor = launch.target_executor(target)
    ctx = launch.launch_context(run, attempt, train_file="unused", val_file="")
    assert executor.submit(launch.job_spec(run, attempt, ctx)) == attempt.external_id


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancel_mid_run(request, backend, real_snapshot, trainer):
    target = request.getfixturevalue(backend)
    run = tiny_run(trainer, real_snapshot, target, total_steps=400)
    attempt = run.attempts.get()
    launch.training_attempt_submit(attempt.pk)
    run = wait_for(run, {"running"})
    for _ in range(240):  # until the trainer logs a step: cancel a job that really trains
        launch.training_attempt_poll(attempt.pk)
        if MetricPoint.objects.filter(run=run).exists():
            break
        time.sleep(0.5)
    assert MetricPoint.objects.filter(run=run).exists()
    training_run_cancel(run=run, user=trainer)
    launch.training_attempt_cancel(attempt.pk)
    run = wait_for(run, {"cancelled", "failed", "succeeded", "lost"}, timeout=90)
    assert run.status == "cancelled"
    attempt.refresh_from_db()
    state = launch.target_executor(target).status(attempt.external_id, job_dir=attempt.job_dir).state
    assert state == JobState.CANCELLED
    steps_at_cancel = run.done
    time.sleep(3)
    launch.training_attempt_poll(attempt.pk)
    run.refresh_from_db()
    assert run.done == steps_at_cancel  # nothing trains any more
