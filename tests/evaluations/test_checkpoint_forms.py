"""Choosing a checkpoint as the model (web form and API), the eval-every-N fields of the training
launch form and API, and cancelling an evaluation (before it starts, and while it runs)."""
from __future__ import annotations

import threading
import time

import pytest

from evaluations.models import EvalRun
from evaluations.services import eval_run_cancel, eval_run_create, eval_run_execute
from tests.fixtures.openai_server import OpenAITestServer
from training_jobs.models import Checkpoint, ComputeTarget, TrainingRun

from .test_schedule import scheduled_run, trainer  # noqa: F401 - fixtures
from .test_service import WINDOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkpoint(scheduled_run, tmp_path):  # noqa: F811
    folder = tmp_path / "checkpoint-3"
    folder.mkdir()
    return Checkpoint.objects.create(run=scheduled_run, step=3, path=str(folder))


def test_start_form_takes_a_checkpoint_as_the_model(client, users, checkpoint, django_capture_on_commit_callbacks):
    client.force_login(users["curator"])
    page = client.get("/evaluations/").content.decode()
    assert f"training run #{checkpoint.run_id} sched · step 3" in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/evaluations/start/", {"checkpoint": checkpoint.pk, "benchmark_name": "lcb-v6",
                                                        "n_samples": 1, "temperature": 0.2, "top_p": 0.95,
                                                        "max_tokens": 64, "concurrency": 2})
    run = EvalRun.objects.get(checkpoint=checkpoint)
    assert response.status_code == 302 and response["Location"] == f"/evaluations/{run.pk}/"
    assert run.serve_checkpoint and run.model_name == checkpoint.path and len(callbacks) == 1
    detail = client.get(f"/evaluations/{run.pk}/").content.decode()
    assert 'id="eval-serving"' in detail and "not submitted yet" in detail and 'id="eval-cancel"' in detail
    # Neither a checkpoint nor an endpoint: the endpoint fields say what is missing.
    response = client.post("/evaluations/start/", {"n_samples": 1, "temperature": 0.2, "top_p": 0.95,
                                                   "max_tokens": 64, "concurrency": 2})
    assert response.status_code == 400 and "required unless a training checkpoint is chosen" in response.content.decode()
    # A checkpoint whose run's compute target is disabled cannot be served: said on the field.
    ComputeTarget.objects.filter(pk=checkpoint.run.target_id).update(is_enabled=False)
    response = client.post("/evaluations/start/", {"checkpoint": checkpoint.pk, "n_samples": 1, "temperature": 0.2,
                                                   "top_p": 0.95, "max_tokens": 64, "concurrency": 2})
    assert response.status_code == 400 and "is disabled: the checkpoint cannot be served" in response.content.decode()
    response = client.post("/evaluations/start/", {"checkpoint": 99999, "n_samples": 1, "temperature": 0.2,
                                                   "top_p": 0.95, "max_tokens": 64, "concurrency": 2})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_api_takes_a_checkpoint_and_cancels(api, checkpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api("curator").post("/api/v1/evaluations/", {"checkpoint": checkpoint.pk, "benchmark_name": "lcb-v6"},
                                       format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["serve_checkpoint"] is True and body["model_name"] == checkpoint.path and body["serve_state"] == ""
    response = api("curator").post(f"/api/v1/evaluations/{body['id']}/cancel/")
    assert response.status_code == 202 and response.json()["status"] == "failed"
    assert response.json()["message"] == "cancelled before it started"
    assert api("curator").post(f"/api/v1/evaluations/{body['id']}/cancel/").status_code == 409
    response = api("curator").post("/api/v1/evaluations/", {"benchmark_name": "lcb-v6"}, format="json")
    assert response.status_code == 400 and "base_url" in response.content.decode()


def test_launch_form_and_api_take_the_schedule(client, api, users, trainer, scheduled_run):  # noqa: F811
    client.force_login(trainer)
    page = client.get("/training/new/").content.decode()
    assert 'id="eval-schedule-fields"' in page and 'name="eval_every"' in page and '<option value="lcb-v6">' in page
    data = {"train_snapshot": scheduled_run.train_snapshot_id, "target": scheduled_run.target_id, "framework": "trl",
            "algorithm": "grpo", "base_model": "tiny-random:qwen2", "p_total_steps": "10", "p_n_gpus_per_node": "0",
            "eval_every": "5", "eval_benchmark": "lcb-v6", "eval_n_samples": "4", "eval_temperature": "0.7",
            "eval_date_from": "2024-09-01"}
    response = client.post("/training/new/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    run = TrainingRun.objects.latest("id")
    assert (run.eval_every, run.eval_benchmark) == (5, "lcb-v6")
    assert run.eval_options["n_samples"] == 4 and run.eval_options["temperature"] == 0.7
    assert run.eval_options["date_from"] == "2024-09-01"
    response = client.post("/training/new/", {**data, "eval_date_from": "2030-01-01"})
    assert response.status_code == 400 and "no benchmark problems named" in response.content.decode()

    body = {"framework": "trl", "algorithm": "grpo", "base_model": "tiny-random:qwen2", "target": "local",
            "train_snapshot": scheduled_run.train_snapshot_id, "params": {"total_steps": 10, "n_gpus_per_node": 0},
            "eval_every": 3, "eval_benchmark": "lcb-v6", "eval_options": {"max_tokens": 256}}
    response = api("admin").post("/api/v1/training-runs/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["eval_every"] == 3 and response.json()["eval_options"] == {"max_tokens": 256}
    response = api("admin").post("/api/v1/training-runs/", {**body, "eval_options": {"n_samples": 0}}, format="json")
    assert response.status_code == 400 and "eval_n_samples" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # the run executes on another thread, with its own connection
def test_cancel_stops_a_running_evaluation(bench, users, settings, django_capture_on_commit_callbacks):
    settings.VERIFY_PARALLELISM = 2
    # Slow answers, one at a time: without the cancel the run would take 10 × 4 × 0.5 s.
    with OpenAITestServer(raw_answers={}, latency=0.5) as slow:
        with django_capture_on_commit_callbacks(execute=False):
            run = eval_run_create(user=users["curator"], model_name="m", base_url=slow.url, n_samples=10,
                                  concurrency=1, **{**WINDOW, "date_to": None})
        result: list = []
        worker = threading.Thread(target=lambda: result.append(eval_run_execute(run.pk)))
        started = time.monotonic()
        worker.start()
        deadline = time.monotonic() + 30
        while EvalRun.objects.get(pk=run.pk).done < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        eval_run_cancel(run=EvalRun.objects.get(pk=run.pk), user=users["curator"])
        worker.join(timeout=30)
        elapsed = time.monotonic() - started
    assert not worker.is_alive()
    run.refresh_from_db()
    assert run.status == "failed" and run.message.startswith("cancelled after")
    assert 1 <= run.done < run.total and elapsed < 15
