"""End to end on the local executor: a snapshot of real problems → a real TRL GRPO run of a tiny
random model with our sandboxed reward → metrics ingested by offset, checkpoints, webhook;
cancel mid-run; a retried submit never launches twice."""
from __future__ import annotations

import os
import time

import pytest

from curation.models import Webhook, WebhookDelivery
from curation.services.webhooks import webhook_secret_generate
from training_jobs.models import MetricPoint, TrainingEvent
from training_jobs.services import launch
from training_jobs.services.runs import training_run_cancel, training_run_retry

from .helpers import tiny_run, wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.training]


def test_trl_grpo_run_end_to_end_with_metrics_and_checkpoints(real_snapshot, local_target, trainer,
                                                             django_capture_on_commit_callbacks):
    Webhook.objects.create(url="http://127.0.0.1:9/hook", secret=webhook_secret_generate(),
                           events=["training_run.finished"])
    run = tiny_run(trainer, real_snapshot, local_target)
    attempt = run.attempts.get()
    assert run.status == "queued" and attempt.key.startswith(f"mc-{run.pk}-a1-")
    launch.training_attempt_submit(attempt.pk)
    attempt.refresh_from_db()
    run.refresh_from_db()
    assert run.status == "pending" and attempt.external_id == attempt.key
    assert run.train_export.format == "trl" and run.train_export.status == "succeeded"
    assert attempt.command[1:3] == ["-m", "training_jobs.specs.trl_grpo"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = wait_for(run, {"succeeded", "failed", "lost"})
    assert run.status == "succeeded", attempt.log_tail
    # Metrics of every step, under canonical names, and the progress they give.
    steps = sorted(MetricPoint.objects.filter(run=run, key="reward_mean").values_list("step", flat=True))
    assert steps == [1, 2, 3]
    keys = set(MetricPoint.objects.filter(run=run).values_list("key", flat=True))
    assert {"reward_mean", "response_length", "truncated_ratio", "entropy", "clip_ratio", "train_runtime"} <= keys
    assert run.done == 3 and run.total == 3 and run.progress == 1.0
    assert sorted(run.checkpoints.values_list("step", flat=True)) == [2, 3]
    # The status timeline, one event per change.
    path = list(TrainingEvent.objects.filter(run=run, kind="status").values_list("to_status", flat=True))
    assert path[:3] == ["queued", "submitting", "pending"] and path[-1] == "succeeded"
    # training_run.finished goes out after commit.
    for callback in callbacks:
        callback()
    delivery = WebhookDelivery.objects.get(event="training_run.finished")
    assert delivery.payload["data"]["id"] == run.pk and delivery.payload["data"]["status"] == "succeeded"


def test_cancel_mid_run_then_retry_resumes_as_a_new_attempt(real_snapshot, local_target, trainer):
    run = tiny_run(trainer, real_snapshot, local_target, total_steps=400, save_every=1)
    attempt = run.attempts.get()
    launch.training_attempt_submit(attempt.pk)
    run = wait_for(run, {"running"})
    # Wait for a checkpoint so the retry has something to resume from.
    for _ in range(120):
        launch.training_attempt_poll(attempt.pk)
        if run.checkpoints.exists():
            break
        import time
        time.sleep(0.5)
    assert run.checkpoints.exists()
    training_run_cancel(run=run, user=trainer)
    launch.training_attempt_cancel(attempt.pk)
    run.refresh_from_db()
    assert run.status == "cancelled"
    pgid = int((launch.jobs_root(local_target) / attempt.key / "pgid").read_text())
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)  # the whole process group is gone
    second = training_run_retry(run=run, user=trainer)
    assert second.number == 2 and second.resume_from.endswith(f"checkpoint-{run.checkpoints.order_by('-step').first().step}")
    run.refresh_from_db()
    assert run.status == "queued"
    training_run_cancel(run=run, user=trainer)  # not submitted yet: cancelled at once
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_a_retried_submit_does_not_launch_twice(real_snapshot, local_target, trainer):
    run = tiny_run(trainer, real_snapshot, local_target, total_steps=400)
    attempt = run.attempts.get()
    launch.training_attempt_submit(attempt.pk)
    launch.training_attempt_submit(attempt.pk)  # a redelivered task: the row says it is done
    # A crash after the backend accepted the job but before our commit: the key finds it.
    executor = launch.target_executor(local_target)
    ctx = launch.launch_context(run, attempt, train_file="x", val_file="")
    assert executor.submit(launch.job_spec(run, attempt, ctx)) == attempt.key
    job_dir = launch.jobs_root(local_target) / attempt.key
    pgid = int((job_dir / "pgid").read_text())
    # The job's shell becomes the trainer a moment after submit (on a busy machine, seconds):
    # wait for it, then watch a little longer that no second trainer ever joins the group.
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not seen:
        seen = _trainers(pgid)
        time.sleep(0.2)
    assert len(seen) == 1, seen
    for _ in range(10):
        time.sleep(0.2)
        assert len(_trainers(pgid)) <= 1, _trainers(pgid)
    training_run_cancel(run=run, user=trainer)
    launch.training_attempt_cancel(attempt.pk)


def _trainers(pgid: int) -> list[str]:
    return [p for p in os.listdir("/proc") if p.isdigit() and _pgid(int(p)) == pgid and _is_trainer(int(p))]


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _is_trainer(pid: int) -> bool:
    try:
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        return False
    try:
        return argv[0].endswith(b"python") and b"training_jobs.specs.trl_grpo" in argv
    except OSError:
        return False
