"""Ray executor: the Ray Jobs REST API of a cluster's dashboard (port 8265 by default; KubeRay and
Anyscale expose the same API). Plain HTTP with httpx: the web app needs no `ray` package.

Endpoints (docs.ray.io, "Ray Jobs REST API"): POST /api/jobs/ submits, GET /api/jobs/{id} reads,
GET /api/jobs/{id}/logs returns the whole log, POST /api/jobs/{id}/stop stops, GET /api/version
answers health. Our idempotency key is the `submission_id`: Ray refuses a second job with the same
one (HTTP 500 "... already exists"), which we read as "already submitted" and fetch.
A token, when the cluster needs one (RAY_AUTH_MODE=token), goes as `Authorization: Bearer`.
"""
from __future__ import annotations

import os
import shlex

import httpx

from .base import BackendStatus, ExecutorError, JobSpec, JobState

_STATES = {"PENDING": JobState.PENDING, "RUNNING": JobState.RUNNING, "SUCCEEDED": JobState.SUCCEEDED,
           "FAILED": JobState.FAILED, "STOPPED": JobState.CANCELLED}
TIMEOUT_S = 15.0


class RayJobsExecutor:
    kind = "ray"

    def __init__(self, address: str, options: dict | None = None, token: str | None = None):
        if not address:
            raise ExecutorError("a Ray target needs the dashboard address (http://host:8265)")
        self.address = address.rstrip("/")
        self.options = options or {}
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return httpx.request(method, self.address + path, headers=self.headers, timeout=TIMEOUT_S, **kwargs)
        except httpx.HTTPError as exc:
            raise ExecutorError(f"Ray dashboard {self.address} unreachable: {exc}") from exc

    def submit(self, spec: JobSpec) -> str:
        entrypoint = shlex.join(spec.argv)
        if spec.workdir:
            entrypoint = f"cd {shlex.quote(spec.workdir)} && exec {entrypoint}"
        if spec.job_dir:
            # The log also lands in the job folder, beside the metrics, for a look after the fact.
            entrypoint = f"mkdir -p {shlex.quote(spec.job_dir)} && {entrypoint}"
        body = {
            "entrypoint": entrypoint,
            "submission_id": spec.key,
            "runtime_env": {"env_vars": dict(spec.env)},
            "metadata": {k: str(v) for k, v in spec.labels.items()},
            "entrypoint_num_cpus": spec.cpus,
        }
        if spec.gpus:
            body["entrypoint_num_gpus"] = spec.gpus
        response = self._request("POST", "/api/jobs/", json=body)
        if response.status_code == 200:
            return response.json().get("submission_id") or spec.key
        if "already exists" in response.text:
            return spec.key  # a retried submit: the first one launched it
        raise ExecutorError(f"Ray refused job {spec.key}: HTTP {response.status_code} {response.text[:300]}")

    def status(self, external_id: str, job_dir: str = "") -> BackendStatus:
        response = self._request("GET", f"/api/jobs/{external_id}")
        if response.status_code == 404:
            return BackendStatus(JobState.LOST, message="Ray does not know this job (cluster restarted?)")
        if response.status_code != 200:
            raise ExecutorError(f"Ray status of {external_id}: HTTP {response.status_code} {response.text[:300]}")
        info = response.json()
        state = _STATES.get(info.get("status", ""), JobState.LOST)
        message = (info.get("message") or "")[-2000:]
        return BackendStatus(state, exit_code=info.get("driver_exit_code"), message=message,
                             raw={k: info.get(k) for k in ("status", "error_type", "start_time", "end_time")})

    def logs(self, external_id: str, cursor: int = 0, job_dir: str = "") -> tuple[str, int]:
        response = self._request("GET", f"/api/jobs/{external_id}/logs")
        if response.status_code != 200:
            return "", cursor
        text = response.json().get("logs", "")
        if len(text) < cursor:
            cursor = 0
        return text[cursor:], len(text)

    def cancel(self, external_id: str) -> None:
        response = self._request("POST", f"/api/jobs/{external_id}/stop")
        if response.status_code not in (200, 404):
            raise ExecutorError(f"Ray stop of {external_id}: HTTP {response.status_code} {response.text[:300]}")

    def health(self) -> dict:
        try:
            response = self._request("GET", "/api/version")
        except ExecutorError as exc:
            return {"ok": False, "error": str(exc)}
        if response.status_code != 200:
            return {"ok": False, "error": f"HTTP {response.status_code}"}
        data = response.json()
        return {"ok": True, "ray_version": data.get("ray_version"), "api_version": data.get("version")}


def token_from_env(name: str) -> str | None:
    return os.environ.get(name) if name else None
