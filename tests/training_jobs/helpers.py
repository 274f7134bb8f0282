"""Shared steps of the end-to-end tests: make a tiny TRL run, drive it, wait for it."""
from __future__ import annotations

import time

from training_jobs.models import RunAttempt, TrainingRun
from training_jobs.services import launch
from training_jobs.services.runs import recipe_create, training_run_create
from training_jobs.specs.params import TINY_RANDOM_MODEL

TINY_PARAMS = {"total_steps": 3, "train_batch_size": 1, "mini_batch_size": 1, "group_size": 4,
               "max_response_length": 24, "learning_rate": 1e-4, "save_every": 2, "reward_timeout_s": 20,
               "reward_workers": 2, "n_gpus_per_node": 0}


def tiny_run(user, snapshot, target, **params) -> TrainingRun:
    recipe = recipe_create(name="tiny", framework="trl", algorithm="dapo", base_model=TINY_RANDOM_MODEL,
                           params={**TINY_PARAMS, **params}, user=user)
    return training_run_create(user=user, name="tiny", train_snapshot=snapshot, recipe=recipe, target=target)


def wait_for(run: TrainingRun, statuses, timeout: float = 240.0, poll_every: float = 1.0) -> TrainingRun:
    """Poll the way beat does until the run reaches one of `statuses`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attempt = RunAttempt.objects.filter(run=run).order_by("-number").first()
        launch.training_attempt_poll(attempt.pk)
        run.refresh_from_db()
        if run.status in statuses:
            return run
        time.sleep(poll_every)
    raise AssertionError(f"run {run.pk} still {run.status} after {timeout} s: {attempt.log_tail[-2000:]}")
