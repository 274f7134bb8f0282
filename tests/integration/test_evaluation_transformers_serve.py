"""End to end against a real `transformers serve` (OpenAI-compatible, CPU) with a tiny randomly
initialised model: the answers are garbage, yet the pipeline runs, stores every sample and reports
pass@1 = 0. Needs an interpreter with torch + transformers[serving] (they are not in the web app's
environment): MICROCODER_SERVE_PYTHON, else the training environment `.venv-train/bin/python`
(`make test` builds it with transformers[serving])."""
from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from evaluations.models import EvalSample
from evaluations.services import eval_run_create, eval_run_execute
from tests.api.conftest import make_problem
from tests.conftest import REPO_ROOT

from .worker import process_stop

SERVE_PYTHON = Path(os.environ.get("MICROCODER_SERVE_PYTHON", REPO_ROOT / ".venv-train" / "bin" / "python"))

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not SERVE_PYTHON.exists(), reason=f"no torch + transformers[serving] interpreter at {SERVE_PYTHON}"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def transformers_server(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("tiny-model")
    subprocess.run([str(SERVE_PYTHON), "-m", "tests.fixtures.tiny_chat_model", str(model_dir)], cwd=REPO_ROOT,
                   check=True, timeout=300)
    port = _free_port()
    log = open(tmp_path_factory.mktemp("serve-log") / "serve.log", "w")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.Popen([str(SERVE_PYTHON.parent / "transformers"), "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--device", "cpu", str(model_dir)],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"transformers serve exited: {Path(log.name).read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"transformers serve did not start: {Path(log.name).read_text()[-3000:]}")
            time.sleep(1)
        yield f"{url}/v1", str(model_dir)
    finally:
        process_stop(proc)
        log.close()


def test_garbage_answers_are_stored_judged_and_score_zero(transformers_server, settings):
    settings.VERIFY_PARALLELISM = 2
    url, model = transformers_server
    for pid, label in (("s1", "easy"), ("s2", "hard")):
        make_problem(pid, source="lcb", is_benchmark=True, benchmark_name="tiny", difficulty_label=label,
                     contest_date=dt.date(2024, 9, 1))
    run = eval_run_create(user=None, model_name=model, base_url=url, benchmark_name="tiny", n_samples=2,
                          temperature=1.0, max_tokens=16, concurrency=2, request_timeout_s=120, enqueue=False)
    run = eval_run_execute(run.pk)
    assert run.status == "succeeded", (run.message, run.errors)
    samples = list(EvalSample.objects.filter(run=run))
    assert len(samples) == 4 and all(s.status == "judged" for s in samples)
    assert all(not s.passed for s in samples)
    assert all(s.verdict in ("NO_CODE", "LANG", "CE", "RE", "WA", "SE") for s in samples)
    assert run.summary["overall"]["pass@1"]["value"] == 0.0 and run.summary["overall"]["pass@2"]["value"] == 0.0
    assert run.completion_tokens > 0 and run.prompt_tokens > 0
