"""A training checkpoint as the model of an evaluation, for real: a tiny random chat model written
with `save_pretrained` (no download) is registered as a Checkpoint of a training run on a local
compute target; the evaluation submits a serving job through the local executor (`transformers
serve` from `.venv-train`), waits for its /health, evaluates through the LLM client and stops the
job when it ends. The failure paths (a job that dies, a job too slow to answer) end the run with a
clear error and leave no server behind."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from curation.services.snapshots import snapshot_create
from evaluations.models import EvalSample
from evaluations.services import EvalInputError, eval_run_create, eval_run_execute
from training_jobs.models import Checkpoint, ComputeTarget, Recipe, TrainingRun

TRAIN_PYTHON = Path(settings.BASE_DIR) / ".venv-train" / "bin" / "python"
WINDOW = dict(benchmark_name="lcb-v6", date_from=dt.date(2024, 9, 1), date_to=dt.date(2024, 9, 30))

pytestmark = [pytest.mark.training, pytest.mark.django_db(transaction=False)]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    if not TRAIN_PYTHON.exists():
        pytest.fail(f"the training environment is missing ({TRAIN_PYTHON}): run `make train-deps`")
    out = tmp_path_factory.mktemp("checkpoint-2")
    subprocess.run([str(TRAIN_PYTHON), "-m", "tests.fixtures.tiny_chat_model", str(out)], cwd=settings.BASE_DIR,
                   check=True, timeout=300)
    assert (out / "config.json").exists() and (out / "model.safetensors").exists()
    return str(out)


@pytest.fixture
def training(bench, users, tmp_path):
    target = ComputeTarget.objects.create(name="local-serve", kind="local", options={
        "jobs_root": str(tmp_path / "jobs"), "python": str(TRAIN_PYTHON)})
    run = TrainingRun.objects.create(name="grpo-tiny", train_snapshot=snapshot_create(name="t", user=users["curator"]),
                                     recipe=Recipe.objects.create(name="r", base_model="tiny"), target=target,
                                     created_by=users["curator"])
    yield run
    # A failed assertion must not leave a server running on the shared machine.
    for marker in (tmp_path / "jobs").glob("*/pgid"):
        try:
            os.killpg(int(marker.read_text()), 9)
        except (ProcessLookupError, ValueError):
            pass


def _group_alive(job_dir: str, grace_s: float = 5.0) -> bool:
    """Whether the job's process group still exists after a short grace (the wrapper shell
    writes the exit code a moment before it exits itself)."""
    deadline = time.monotonic() + grace_s
    while True:
        try:
            os.killpg(int((Path(job_dir) / "pgid").read_text()), 0)
        except ProcessLookupError:
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.1)


def test_a_checkpoint_is_served_evaluated_and_stopped(training, tiny_model, users, settings):
    settings.VERIFY_PARALLELISM = 2
    checkpoint = Checkpoint.objects.create(run=training, step=2, path=tiny_model)
    run = eval_run_create(user=users["curator"], model_name="", base_url="", checkpoint=checkpoint, n_samples=2,
                          temperature=1.0, max_tokens=16, concurrency=2, enqueue=False, **WINDOW)
    assert run.serve_checkpoint and run.model_name == tiny_model and run.name == "grpo-tiny @ step 2"
    run = eval_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", (run.message, run.errors, run.serve_log_tail[-2000:])
    # The endpoint the job advertised, on loopback (a local target), became the run's endpoint.
    assert run.base_url.startswith("http://127.0.0.1:") and run.base_url.endswith("/v1")
    samples = list(EvalSample.objects.filter(run=run))
    assert len(samples) == 4 and all(s.status == "judged" and not s.passed for s in samples)
    assert run.summary["overall"]["pass@1"]["value"] == 0.0
    assert run.completion_tokens > 0
    # The serving job is recorded on the row and is gone once the evaluation ended.
    assert run.serve_external_id == run.serve_key and run.serve_key.startswith(f"mc-eval-{run.pk}-")
    assert run.serve_state == "stopped" and "serve_job:" in run.serve_log_tail
    assert (Path(run.serve_job_dir) / "endpoint.json").exists()
    assert not _group_alive(run.serve_job_dir)
    # The evaluation's page shows the serving job, its state and where its log is.
    from django.test import Client

    client = Client()
    client.force_login(users["viewer"])
    page = client.get(f"/evaluations/{run.pk}/").content.decode()
    assert f"<code>{run.serve_external_id}</code>" in page and 'id="eval-serving-state">stopped<' in page
    assert f"{run.serve_job_dir}/log.txt" in page and f'href="/training/{training.pk}/"' in page


def test_a_serving_job_that_dies_fails_the_evaluation_with_its_log(training, users, tmp_path):
    broken = tmp_path / "checkpoint-4"
    broken.mkdir()  # no config.json: not a model folder
    checkpoint = Checkpoint.objects.create(run=training, step=4, path=str(broken))
    run = eval_run_create(user=users["curator"], model_name="", base_url="", checkpoint=checkpoint,
                          enqueue=False, **WINDOW)
    run = eval_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "serving the checkpoint failed" in run.message and "not a Hugging Face model folder" in run.message
    assert run.errors[0]["field"] == "checkpoint"
    assert run.serve_state == "failed" and not _group_alive(run.serve_job_dir)


def test_a_serving_job_too_slow_to_answer_times_out_and_is_stopped(training, tiny_model, users, settings):
    settings.EVAL_SERVE_TIMEOUT_S = 0.5  # far less than loading torch takes
    checkpoint = Checkpoint.objects.create(run=training, step=6, path=tiny_model)
    run = eval_run_create(user=users["curator"], model_name="", base_url="", checkpoint=checkpoint,
                          enqueue=False, **WINDOW)
    run = eval_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "did not answer /health within 0.5 s" in run.message
    assert run.serve_state in ("stopped", "cancelled") and not _group_alive(run.serve_job_dir)


def test_the_checkpoint_must_be_servable(training, users, tmp_path):
    missing = Checkpoint.objects.create(run=training, step=8, path=str(tmp_path / "nowhere"))
    with pytest.raises(EvalInputError, match="does not exist"):
        eval_run_create(user=users["curator"], model_name="", base_url="", checkpoint=missing, enqueue=False, **WINDOW)
    ComputeTarget.objects.filter(pk=training.target_id).update(is_enabled=False)
    present = Checkpoint.objects.create(run=training, step=10, path=str(tmp_path))
    present.run.target.refresh_from_db()
    with pytest.raises(EvalInputError, match="disabled") as exc:
        eval_run_create(user=users["curator"], model_name="", base_url="", checkpoint=present, enqueue=False, **WINDOW)
    assert exc.value.field == "checkpoint"


def test_the_sweep_stops_a_serving_job_an_ended_evaluation_left_behind(training, users, tmp_path):
    from evaluations.models import EvalRun
    from evaluations.services import eval_serving_sweep
    from training_jobs.executors import JobSpec
    from training_jobs.services.launch import jobs_root, target_executor

    target = training.target
    key = "mc-eval-orphan-000000"
    spec = JobSpec(key=key, argv=("sleep", "120"), job_dir=str(jobs_root(target) / key), workdir=str(tmp_path))
    external_id = target_executor(target).submit(spec)
    checkpoint = Checkpoint.objects.create(run=training, step=12, path=str(tmp_path))
    # The worker died after the summary, before the stop: finished row, job still running.
    run = EvalRun.objects.create(model_name="m", status="succeeded", checkpoint=checkpoint, serve_checkpoint=True,
                                 serve_key=key, serve_external_id=external_id, serve_job_dir=spec.job_dir,
                                 serve_state="running")
    still_running = EvalRun.objects.create(model_name="m", status="running", checkpoint=checkpoint,
                                           serve_checkpoint=True, serve_key="other", serve_external_id="other",
                                           serve_job_dir=str(tmp_path / "other"), serve_state="running")
    assert _group_alive(spec.job_dir, grace_s=0)
    assert eval_serving_sweep() == 1
    run.refresh_from_db()
    still_running.refresh_from_db()
    assert run.serve_state == "stopped" and not _group_alive(spec.job_dir)
    assert still_running.serve_state == "running"  # its own task stops it when it ends
    assert eval_serving_sweep() == 0


def test_a_verl_checkpoint_is_served_from_its_hugging_face_folder(training, tiny_model, users, settings, tmp_path):
    import shutil

    from training_jobs.serve_job import model_folder

    settings.VERIFY_PARALLELISM = 2
    step_dir = tmp_path / "global_step_4"
    shutil.copytree(tiny_model, step_dir / "actor" / "huggingface")
    (step_dir / "actor" / "model_world_size_1_rank_0.pt").write_bytes(b"shard")
    checkpoint = Checkpoint.objects.create(run=training, step=4, path=str(step_dir))
    run = eval_run_create(user=users["curator"], model_name="", base_url="", checkpoint=checkpoint, n_samples=1,
                          max_tokens=8, enqueue=False, **WINDOW)
    run = eval_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", (run.message, run.serve_log_tail[-2000:])
    # The server is pinned to the folder it serves; the run asks for that name.
    assert run.model_name == str(step_dir / "actor" / "huggingface")
    assert EvalSample.objects.filter(run=run, status="judged").count() == 2

    # Shards only (no hf_model saved): the job says how to merge them.
    shards_only = tmp_path / "global_step_6"
    (shards_only / "actor").mkdir(parents=True)
    with pytest.raises(SystemExit, match="verl.model_merger merge --backend fsdp"):
        model_folder(shards_only)
    with pytest.raises(SystemExit, match="not a Hugging Face model folder"):
        model_folder(tmp_path / "empty")
