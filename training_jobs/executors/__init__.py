"""Backends that run training jobs, behind one interface (`base.Executor`)."""
from __future__ import annotations

import os

from .base import BackendStatus, Executor, ExecutorError, JobSpec, JobState
from .local import LocalExecutor
from .ray import RayJobsExecutor
from .slurm import SlurmExecutor

__all__ = ["BackendStatus", "Executor", "ExecutorError", "JobSpec", "JobState", "executor_for",
           "LocalExecutor", "RayJobsExecutor", "SlurmExecutor"]


def executor_for(kind: str, *, address: str = "", options: dict | None = None, token_env: str = "") -> Executor:
    """The executor of a compute target (plain values, so this stays free of Django)."""
    if kind == "local":
        return LocalExecutor(options)
    if kind == "ray":
        return RayJobsExecutor(address, options, token=os.environ.get(token_env) if token_env else None)
    if kind == "slurm":
        return SlurmExecutor(options)
    raise ExecutorError(f"unknown compute target kind {kind!r}")
