"""One interface for every backend: submit, status, logs from a cursor, cancel, health.

Pure Python (no Django): an executor receives a `JobSpec` (everything the backend needs) and
answers with plain values. `submit` is idempotent on `spec.key`: submitting the same key twice
returns the job the first call launched (Ray submission id, Slurm job name, local job folder).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class JobState:
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"          # the backend no longer knows the job
    TERMINAL = frozenset({"succeeded", "failed", "cancelled", "lost"})


class ExecutorError(RuntimeError):
    """The backend refused or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class JobSpec:
    key: str                              # idempotency key, e.g. "mc-42-a1"
    argv: tuple[str, ...]                 # the command, e.g. ("python", "-m", "verl.trainer.main_ppo", ...)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = ""                     # where the command runs (the project checkout on the cluster)
    job_dir: str = ""                     # the attempt's folder: log, metrics, markers (shared storage)
    cpus: int = 1
    gpus: int = 0
    time_limit_min: int = 0               # 0 = the backend's default
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class BackendStatus:
    state: str
    exit_code: int | None = None
    message: str = ""
    raw: dict = field(default_factory=dict)


class Executor(Protocol):
    kind: str

    def submit(self, spec: JobSpec) -> str: ...

    def status(self, external_id: str, job_dir: str = "") -> BackendStatus: ...

    def logs(self, external_id: str, cursor: int = 0, job_dir: str = "") -> tuple[str, int]: ...

    def cancel(self, external_id: str) -> None: ...

    def health(self) -> dict: ...


def read_from(path: str, cursor: int, limit: int = 256 << 10) -> tuple[str, int]:
    """Text appended to a file since byte `cursor` (at most `limit` bytes per call)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            if size < cursor:
                cursor = 0
            fh.seek(cursor)
            data = fh.read(limit)
    except FileNotFoundError:
        return "", cursor
    return data.decode("utf-8", "replace"), cursor + len(data)
