"""The workspace pages: list, launch form with preview, run page with its status partial and
metrics endpoint, cancel/retry buttons by role, compare with the snapshot diff."""
from __future__ import annotations

import json
import re

import pytest

from curation.services.snapshots import snapshot_create
from tests.api.conftest import make_problem
from training_jobs.models import ComputeTarget, MetricPoint, TrainingRun
from training_jobs.services.runs import recipe_create, training_run_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(users, trainer, tmp_path):
    make_problem("p1")
    snap_a = snapshot_create(name="curated", user=users["curator"])
    make_problem("p2")
    snap_b = snapshot_create(name="baseline", user=users["curator"])
    target = ComputeTarget.objects.create(name="here", kind="local", options={"jobs_root": str(tmp_path)})
    recipe = recipe_create(name="r", framework="verl", algorithm="dapo", base_model="Qwen/Qwen3-4B-Instruct-2507",
                           params={}, user=trainer)
    runs = [training_run_create(user=trainer, name=f"run {s.name}", train_snapshot=s, recipe=recipe, target=target)
            for s in (snap_a, snap_b)]
    for run, slope in zip(runs, (0.1, 0.05)):
        attempt = run.attempts.get()
        MetricPoint.objects.bulk_create([MetricPoint(run=run, attempt=attempt, key="reward_mean", raw_key="critic/score/mean",
                                                     step=s, value=slope * s) for s in range(1, 6)])
    return {"snapshots": (snap_a, snap_b), "target": target, "runs": runs}


def login(client, user):
    client.force_login(user)
    return client


def test_runs_list_and_nav(client, users, setup):
    r = login(client, users["viewer"]).get("/training/")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'href="/training/"' in body and "run curated" in body and "run baseline" in body
    assert "Launch a run" not in body  # a viewer may look, not spend compute
    assert "HX-Request" in r["Vary"]


def test_launch_form_preview_and_create(client, trainer, setup):
    client = login(client, trainer)
    page = client.get("/training/new/")
    assert page.status_code == 200 and 'value="1.2"' in page.content.decode()
    snap = setup["snapshots"][0]
    data = {"train_snapshot": snap.pk, "target": setup["target"].pk, "framework": "verl", "algorithm": "dapo",
            "base_model": "Qwen/Qwen3-4B-Instruct-2507", "p_total_steps": "300", "p_temperature": "1.2",
            "p_dynamic_sampling": "on"}
    preview = client.post("/training/new/preview/", data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="preview")
    text = preview.content.decode()
    assert preview.status_code == 200 and "verl.trainer.main_ppo" in text
    assert "actor_rollout_ref.rollout.temperature=1.2" in text and "custom_reward_function.name=compute_score" in text
    bad = client.post("/training/new/", {**data, "p_temperature": "hot"})
    assert bad.status_code == 400 and "temperature" in bad.content.decode()
    created = client.post("/training/new/", {**data, "name": "from the form"})
    run = TrainingRun.objects.get(name="from the form")
    assert created.status_code == 302 and created["Location"] == f"/training/{run.pk}/"
    assert run.status == "queued" and run.config["params"]["temperature"] == 1.2


@pytest.mark.parametrize("role,status", [("viewer", 403), ("curator", 403), ("admin", 200)])
def test_launch_needs_the_trainer_capability(client, users, setup, role, status):
    assert login(client, users[role]).get("/training/new/").status_code == status


def test_run_page_status_partial_and_metrics(client, trainer, users, setup):
    run = setup["runs"][0]
    client = login(client, trainer)
    page = client.get(f"/training/{run.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and 'id="cancel-run"' in body and "<script>" not in body.replace(' src=', '')
    chart = json.loads(re.search(r'<script id="training-chart" type="application/json">(.*?)</script>', body).group(1))
    assert chart["metrics_url"] == f"/training/{run.pk}/metrics.json" and chart["live"] is True
    partial = client.get(f"/training/{run.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"run-{run.pk}-status")
    assert partial.content.decode().lstrip().startswith(f'<section id="run-{run.pk}-status"')
    series = client.get(f"/training/{run.pk}/metrics.json").json()
    assert series["series"]["reward_mean"] == [[s, pytest.approx(0.1 * s)] for s in range(1, 6)]
    viewer_page = login(client, users["viewer"]).get(f"/training/{run.pk}/").content.decode()
    assert 'id="cancel-run"' not in viewer_page


def test_cancel_and_retry_buttons(client, trainer, users, setup):
    run = setup["runs"][0]
    assert login(client, users["curator"]).post(f"/training/{run.pk}/cancel/").status_code == 403
    client = login(client, trainer)
    assert client.post(f"/training/{run.pk}/cancel/").status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert client.post(f"/training/{run.pk}/retry/").status_code == 302
    run.refresh_from_db()
    assert run.status == "queued" and run.attempts.count() == 2


def test_compare_overlays_runs_with_the_snapshot_diff(client, users, setup):
    a, b = setup["runs"]
    r = login(client, users["viewer"]).get(f"/training/compare/?runs={a.pk}&runs={b.pk}")
    body = r.content.decode()
    assert r.status_code == 200
    data = json.loads(re.search(r'<script id="compare-chart" type="application/json">(.*?)</script>', body).group(1))
    assert [run["id"] for run in data["runs"]] == [a.pk, b.pk] and data["keys"] == ["reward_mean"]
    assert data["runs"][1]["series"]["reward_mean"][-1] == [5, pytest.approx(0.25)]
    assert re.search(r"1 added, 0 removed, 0 changed", body)
