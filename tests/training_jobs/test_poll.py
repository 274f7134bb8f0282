"""The poller's deadlines and its reading of backend states (a stub backend: unit tests; the real
ones run in test_local_e2e.py and test_backends.py)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from curation.services.snapshots import snapshot_create
from tests.api.conftest import make_problem
from training_jobs.executors import BackendStatus, JobState
from training_jobs.models import ComputeTarget, RunAttempt
from training_jobs.services import launch
from training_jobs.services.runs import recipe_create, training_run_create, training_run_transition

pytestmark = pytest.mark.django_db


class StubBackend:
    def __init__(self, state: str, exit_code=None):
        self.state, self.exit_code, self.cancelled = state, exit_code, []

    def status(self, external_id, job_dir=""):
        return BackendStatus(self.state, exit_code=self.exit_code, message=f"stub {self.state}")

    def logs(self, external_id, cursor=0, job_dir=""):
        return ("line\n", cursor + 5) if cursor == 0 else ("", cursor)

    def cancel(self, external_id):
        self.cancelled.append(external_id)


@pytest.fixture
def submitted(users, trainer, tmp_path):
    make_problem("p1")
    snapshot = snapshot_create(name="s", user=users["curator"])
    target = ComputeTarget.objects.create(name="stub", kind="local", options={"jobs_root": str(tmp_path)})
    recipe = recipe_create(name="r", framework="trl", algorithm="grpo", base_model="tiny-random:qwen2",
                           params={"total_steps": 4}, user=trainer)
    run = training_run_create(user=trainer, name="r", train_snapshot=snapshot, recipe=recipe, target=target)
    attempt = run.attempts.get()
    RunAttempt.objects.filter(pk=attempt.pk).update(external_id="job-1", metrics_path=str(tmp_path / "m.jsonl"))
    training_run_transition(run, "submitting")
    training_run_transition(run, "pending")
    return run, attempt


def use(monkeypatch, backend):
    monkeypatch.setattr(launch, "target_executor", lambda target: backend)
    return backend


def test_pending_past_its_deadline_is_lost_and_stopped(submitted, monkeypatch, settings):
    run, attempt = submitted
    backend = use(monkeypatch, StubBackend(JobState.PENDING))
    settings.TRAINING_PENDING_TIMEOUT_S = 60
    assert launch.training_attempt_poll(attempt.pk) == "pending"
    type(run).objects.filter(pk=run.pk).update(status_changed_at=timezone.now() - dt.timedelta(seconds=61))
    assert launch.training_attempt_poll(attempt.pk) == "lost"
    assert backend.cancelled == ["job-1"]
    run.refresh_from_db()
    assert "pending for" in run.message and run.events.last().to_status == "lost"


def test_silent_running_job_is_lost_when_the_watchdog_is_on(submitted, monkeypatch, settings):
    run, attempt = submitted
    use(monkeypatch, StubBackend(JobState.RUNNING))
    settings.TRAINING_STALE_AFTER_S = 0
    assert launch.training_attempt_poll(attempt.pk) == "running"
    settings.TRAINING_STALE_AFTER_S = 30
    type(run).objects.filter(pk=run.pk).update(status_changed_at=timezone.now() - dt.timedelta(seconds=31))
    assert launch.training_attempt_poll(attempt.pk) == "lost"


def test_backend_states_map_to_run_states(submitted, monkeypatch):
    run, attempt = submitted
    with open(attempt.run.attempts.get().metrics_path, "w") as fh:
        fh.write(json.dumps({"step": 2, "data": {"reward": 0.5}}) + "\n")
    use(monkeypatch, StubBackend(JobState.FAILED, exit_code=3))
    assert launch.training_attempt_poll(attempt.pk) == "failed"
    run.refresh_from_db()
    attempt.refresh_from_db()
    # The final poll still ingests what the job wrote, and keeps the log.
    assert run.done == 2 and run.metric_points.get().key == "reward_mean"
    assert attempt.exit_code == 3 and attempt.backend_status == "failed" and attempt.log_tail == "line\n"
    assert launch.training_attempt_poll(attempt.pk) == "failed"  # finished: nothing changes


def test_a_cancelled_job_that_exits_with_a_signal_is_cancelled(submitted, monkeypatch):
    run, attempt = submitted
    type(run).objects.filter(pk=run.pk).update(cancel_requested=True)
    use(monkeypatch, StubBackend(JobState.FAILED, exit_code=143))
    assert launch.training_attempt_poll(attempt.pk) == "cancelled"


def test_backend_that_forgot_the_job_means_lost(submitted, monkeypatch):
    run, attempt = submitted
    use(monkeypatch, StubBackend(JobState.LOST))
    assert launch.training_attempt_poll(attempt.pk) == "lost"
    assert launch.active_attempt_ids() == []
