"""The run page in headless Chromium: metrics ingested by the real reader appear on the live
curves without a reload, the status partial follows the run to its end, and the launch form's
preview shows the command — with no script errors (no inline scripts: CSP script-src 'self')."""
from __future__ import annotations

import json
import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser, login, make_user, new_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_live_curves_status_and_launch_preview(live_server, new_page, make_user, tmp_path, settings):  # noqa: F811
    from curation.services.snapshots import snapshot_create
    from tests.api.conftest import make_problem
    from training_jobs.models import ComputeTarget
    from training_jobs.models import TrainingStatus as S
    from training_jobs.services.launch import metrics_ingest
    from training_jobs.services.runs import recipe_create, training_run_create, training_run_transition

    settings.TRAINING_JOBS_DIR = tmp_path
    user = make_user("tina", "trainer")
    make_problem("p1")
    snapshot = snapshot_create(name="curated", user=user)
    target = ComputeTarget.objects.create(name="here", kind="local", options={"jobs_root": str(tmp_path)})
    recipe = recipe_create(name="r", framework="verl", algorithm="dapo", base_model="Qwen/Qwen3-4B-Instruct-2507",
                           params={"total_steps": 4}, user=user)
    run = training_run_create(user=user, name="live", train_snapshot=snapshot, recipe=recipe, target=target)
    for to in (S.SUBMITTING, S.PENDING, S.RUNNING):
        training_run_transition(run, to)
    attempt = run.attempts.get()
    attempt.metrics_path = str(tmp_path / "metrics.jsonl")
    attempt.save()

    errors: list[str] = []
    page = new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live_server.url, "tina")
    page.goto(f"{live_server.url}/training/{run.pk}/")
    assert page.locator("#run-status").inner_text() == "Running"
    assert page.locator("#run-charts-empty").is_visible()

    # verl writes two steps; the poller's reader ingests them; the page draws them unprompted.
    with open(attempt.metrics_path, "w") as fh:
        for step in (1, 2):
            fh.write(json.dumps({"step": step, "data": {"critic/score/mean": 0.1 * step, "actor/entropy": 1.0}}) + "\n")
    metrics_ingest(run, attempt)
    page.wait_for_selector("#run-charts-reward_mean", timeout=20_000)
    # Locator assertions, not wait_for_function: the CSP forbids the eval that one needs.
    expect(page.locator("#run-charts")).to_have_attribute("data-points", "4", timeout=20_000)
    assert page.locator("#run-charts h3").all_inner_texts()[:2] == ["reward_mean", "entropy"]

    with open(attempt.metrics_path, "a") as fh:
        fh.write(json.dumps({"step": 3, "data": {"critic/score/mean": 0.3}}) + "\n")
    metrics_ingest(run, attempt)
    run.refresh_from_db()
    training_run_transition(run, S.SUCCEEDED)
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=20_000)
    expect(page.locator("#run-charts")).to_have_attribute("data-points", "5", timeout=20_000)
    assert page.locator("#run-step").inner_text() == "3"

    page.goto(f"{live_server.url}/training/new/")
    page.select_option("#id_train_snapshot", str(snapshot.pk))
    page.select_option("#id_target", str(target.pk))
    page.select_option("#id_framework", "trl")
    page.fill("#id_base_model", "tiny-random:qwen2")
    page.click("text=Preview the command")
    page.wait_for_selector("#preview-command")
    assert "training_jobs.specs.trl_grpo" in page.locator("#preview-command").inner_text()
    expect(page.locator("#preview-config-text")).to_contain_text("num_generations")

    # Evaluations of two checkpoints: the run page draws pass@1 by difficulty against step.
    from evaluations.models import EvalRun
    from training_jobs.models import Checkpoint

    for step, value in ((2, 0.25), (4, 0.5)):
        EvalRun.objects.create(model_name=f"ckpt-{step}", status="succeeded", checkpoint=Checkpoint.objects.create(
            run=run, step=step, path=str(tmp_path / f"checkpoint-{step}")), summary={
            "ks": [1], "overall": {"pass@1": {"value": value}},
            "by": {"label": {"easy": {"pass@1": {"value": value}}}}})
    page.goto(f"{live_server.url}/training/{run.pk}/")
    # Chart.js styles the canvas it draws on (display: block; box-sizing: border-box).
    expect(page.locator("#chart-steps")).to_have_attribute("style", re.compile("box-sizing"), timeout=20_000)
    assert page.locator("#checkpoint-evaluations tbody tr").count() == 2
    assert errors == []
