"""/api/v1/training-runs: create, list, detail, cancel, retry, metrics; in the OpenAPI schema."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from curation.services.snapshots import snapshot_create
from tests.api.conftest import make_problem
from training_jobs.models import ComputeTarget, MetricPoint, TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(users, trainer):
    def make(role):
        user = trainer if role == "trainer" else users[role]
        client = APIClient()
        _token, raw = api_token_create(user=user, name="tests", expires_in_days=1)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client
    return make


@pytest.fixture
def snapshot(users, tmp_path):
    make_problem("p1")
    ComputeTarget.objects.create(name="here", kind="local", options={"jobs_root": str(tmp_path)})
    return snapshot_create(name="s", user=users["curator"])


BODY = {"framework": "trl", "algorithm": "grpo", "base_model": "tiny-random:qwen2", "target": "here",
        "params": {"total_steps": 7, "temperature": 0.9}}


@pytest.mark.parametrize("role,expected", [("viewer", 403), ("curator", 403), ("adjudicator", 403), ("trainer", 201),
                                           ("admin", 201)])
def test_create_needs_the_trainer_capability(client_for, snapshot, role, expected):
    r = client_for(role).post("/api/v1/training-runs/", {**BODY, "train_snapshot": snapshot.pk}, format="json")
    assert r.status_code == expected, r.json()
    if expected == 201:
        body = r.json()
        assert body["status"] == "queued" and body["total"] == 7 and body["config"]["params"]["temperature"] == 0.9
        assert body["attempts"][0]["number"] == 1


def test_bad_input_names_the_field(client_for, snapshot):
    client = client_for("trainer")
    r = client.post("/api/v1/training-runs/", {**BODY, "train_snapshot": snapshot.pk,
                                               "params": {"temperature": "hot"}}, format="json")
    assert r.status_code == 400 and "temperature" in r.json()["message"]
    r = client.post("/api/v1/training-runs/", {**BODY, "train_snapshot": snapshot.pk, "target": "nowhere"}, format="json")
    assert r.status_code == 400 and r.json()["message"].startswith("target")
    assert not TrainingRun.objects.exists()


def test_list_detail_cancel_retry_and_metrics(client_for, snapshot):
    trainer = client_for("trainer")
    run_id = trainer.post("/api/v1/training-runs/", {**BODY, "train_snapshot": snapshot.pk}, format="json").json()["id"]
    viewer = client_for("viewer")
    assert [r["id"] for r in viewer.get("/api/v1/training-runs/").json()["results"]] == [run_id]
    assert viewer.get(f"/api/v1/training-runs/{run_id}/").json()["status"] == "queued"
    assert viewer.post(f"/api/v1/training-runs/{run_id}/cancel/").status_code == 403
    assert trainer.post(f"/api/v1/training-runs/{run_id}/retry/").status_code == 409  # not finished
    r = trainer.post(f"/api/v1/training-runs/{run_id}/cancel/")
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    assert trainer.post(f"/api/v1/training-runs/{run_id}/cancel/").status_code == 409
    r = trainer.post(f"/api/v1/training-runs/{run_id}/retry/")
    assert r.status_code == 202 and [a["number"] for a in r.json()["attempts"]] == [1, 2]
    run = TrainingRun.objects.get(pk=run_id)
    MetricPoint.objects.create(run=run, attempt=run.attempts.get(number=1), key="reward_mean", raw_key="reward", step=1, value=0.25)
    MetricPoint.objects.create(run=run, attempt=run.attempts.get(number=1), key="entropy", raw_key="entropy", step=1, value=2.0)
    series = viewer.get(f"/api/v1/training-runs/{run_id}/metrics/?key=reward_mean").json()
    assert series == {"run": run_id, "status": "queued", "series": {"reward_mean": [[1, 0.25]]}}
    assert viewer.get("/api/v1/compute-targets/").json()["results"][0]["name"] == "here"


def test_in_the_openapi_schema(client_for):
    schema = client_for("viewer").get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for path in ("/api/v1/training-runs/", "/api/v1/training-runs/{id}/", "/api/v1/training-runs/{id}/cancel/",
                 "/api/v1/training-runs/{id}/retry/", "/api/v1/training-runs/{id}/metrics/"):
        assert path in paths, path
    assert "post" in paths["/api/v1/training-runs/"]


def test_training_run_finished_is_a_webhook_event(client_for, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # an on-premise receiver, allowed by name
    r = client_for("admin").post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/x", "events": ["training_run.finished"]},
                                 format="json")
    assert r.status_code == 201 and r.json()["events"] == ["training_run.finished"]
