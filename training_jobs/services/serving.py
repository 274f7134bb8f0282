"""Serving jobs: a checkpoint served over the OpenAI protocol by a job on a compute target, through
the same executors (submit / status / logs / cancel) as training attempts.

    spec = serving_job_spec(target, checkpoint_path, key)
    external_id = target_executor(target).submit(spec)
    look = serving_look(target, external_id, spec.job_dir)   # state, endpoint once healthy
    serving_stop(target, external_id, spec.job_dir)           # cancel; returns the log tail

The job is `python -m training_jobs.serve_job` in the training environment: it picks a free port on
its node, writes `endpoint.json` to the job folder (shared storage, like a training job's metrics)
and execs `transformers serve`. Its caller (an evaluation) owns the row that records the job; this
module keeps no state of its own.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings

from training_jobs.executors import ExecutorError, JobSpec, JobState
from training_jobs.models import ComputeTarget
from training_jobs.services.launch import jobs_root, target_executor, training_python

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 3.0
LOG_TAIL_CHARS = 8000


class ServingError(RuntimeError):
    """The serving job failed, vanished or never became healthy; the message says which."""


@dataclass
class ServingLook:
    state: str                 # a JobState
    base_url: str = ""         # set once endpoint.json exists and /health answered 200
    message: str = ""
    model: str = ""            # the name the server answers to (the model folder it serves)

    @property
    def healthy(self) -> bool:
        return bool(self.base_url)


def serving_job_spec(target: ComputeTarget, checkpoint_path: str, key: str) -> JobSpec:
    options = target.options or {}
    job_dir = str(jobs_root(target) / key)
    # A local job is reached on loopback; on a cluster the node is another machine, so the server
    # listens on every interface and endpoint.json names the node.
    bind = options.get("serve_bind") or ("127.0.0.1" if target.kind == "local" else "0.0.0.0")
    argv = [training_python(target), "-m", "training_jobs.serve_job", "--checkpoint", checkpoint_path,
            "--job-dir", job_dir, "--bind", bind]
    if options.get("serve_device"):
        argv += ["--device", str(options["serve_device"])]
    workdir = str(options.get("workdir") or settings.BASE_DIR)
    env = {"PYTHONPATH": workdir, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if target.kind == "local":
        env["OMP_NUM_THREADS"] = str(options.get("serve_threads") or 1)  # a shared box: one core per server
    env.update({str(k): str(v) for k, v in (options.get("env") or {}).items()})
    return JobSpec(key=key, argv=tuple(argv), env=env, workdir=workdir, job_dir=job_dir,
                   cpus=int(options.get("serve_cpus") or options.get("cpus") or 1),
                   gpus=int(options.get("serve_gpus") or 0),
                   time_limit_min=int(options.get("serve_time_limit_min") or options.get("time_limit_min") or 0),
                   labels={"microcoder_serving": key})


def serving_submit(target: ComputeTarget, spec: JobSpec) -> str:
    """Submit (idempotent on the key: a retried submit finds the first job)."""
    try:
        return target_executor(target).submit(spec)
    except ExecutorError as exc:
        raise ServingError(f"the serving job could not be submitted to {target.name}: {exc}") from exc


def _endpoint(job_dir: str) -> dict | None:
    try:
        return json.loads((Path(job_dir) / "endpoint.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def serving_look(target: ComputeTarget, external_id: str, job_dir: str) -> ServingLook:
    """One look: the job's state and, when it runs and answers /health, its base URL."""
    try:
        backend = target_executor(target).status(external_id, job_dir=job_dir)
    except ExecutorError as exc:
        return ServingLook(JobState.PENDING, message=f"status unknown: {exc}")
    if backend.state in JobState.TERMINAL:
        return ServingLook(backend.state, message=backend.message)
    endpoint = _endpoint(job_dir)
    if backend.state != JobState.RUNNING or endpoint is None:
        return ServingLook(backend.state, message="starting" if endpoint is None else backend.message)
    try:
        ok = httpx.get(endpoint["health_url"], timeout=HEALTH_TIMEOUT_S).status_code == 200
    except httpx.HTTPError as exc:
        return ServingLook(backend.state, message=f"not answering yet ({type(exc).__name__})")
    return ServingLook(backend.state, base_url=endpoint["base_url"] if ok else "",
                       message="healthy" if ok else "health check refused", model=endpoint.get("model", ""))


def serving_log_tail(target: ComputeTarget, external_id: str, job_dir: str) -> str:
    try:
        text, _ = target_executor(target).logs(external_id, 0, job_dir=job_dir)
    except ExecutorError as exc:
        return f"(log unavailable: {exc})"
    return text[-LOG_TAIL_CHARS:]


def serving_stop(target: ComputeTarget, external_id: str, job_dir: str) -> tuple[str, str]:
    """Cancel the job (a no-op for one that already ended); returns (final state, log tail)."""
    executor = target_executor(target)
    try:
        executor.cancel(external_id)
    except ExecutorError as exc:
        logger.warning("stopping serving job %s: %s", external_id, exc)
    try:
        state = executor.status(external_id, job_dir=job_dir).state
    except ExecutorError as exc:
        state = f"unknown ({exc})"[:16]
    return state, serving_log_tail(target, external_id, job_dir)
