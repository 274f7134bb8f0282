"""Slurm executor: `sbatch --parsable`, `squeue`, `scontrol show job`, `scancel` — no `sacct`,
which needs the accounting daemon that many clusters (and our CI) do not run.

The job name is the idempotency key: before submitting, `squeue --name KEY` and the job folder's
`slurm_job_id` are checked, so a retried submit finds the first job. The batch script writes the
command's exit code to `exitcode` in the job folder (shared storage), which answers the status
once Slurm has forgotten a finished job (MinJobAge).
Options: slurm_conf (SLURM_CONF), partition, account, time_limit_min, cpus, bin_dir.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from .base import BackendStatus, ExecutorError, JobSpec, JobState, read_from

_STATES = {
    "PENDING": JobState.PENDING, "CONFIGURING": JobState.PENDING, "REQUEUED": JobState.PENDING,
    "RESV_DEL_HOLD": JobState.PENDING, "REQUEUE_HOLD": JobState.PENDING, "SUSPENDED": JobState.PENDING,
    "RUNNING": JobState.RUNNING, "COMPLETING": JobState.RUNNING, "STAGE_OUT": JobState.RUNNING,
    "COMPLETED": JobState.SUCCEEDED, "CANCELLED": JobState.CANCELLED,
    "FAILED": JobState.FAILED, "TIMEOUT": JobState.FAILED, "NODE_FAIL": JobState.FAILED,
    "OUT_OF_MEMORY": JobState.FAILED, "BOOT_FAIL": JobState.FAILED, "DEADLINE": JobState.FAILED,
    "PREEMPTED": JobState.FAILED,
}


class SlurmExecutor:
    kind = "slurm"

    def __init__(self, options: dict | None = None):
        self.options = options or {}

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ)
        if self.options.get("slurm_conf"):
            env["SLURM_CONF"] = self.options["slurm_conf"]
        binary = str(Path(self.options["bin_dir"]) / argv[0]) if self.options.get("bin_dir") else argv[0]
        try:
            done = subprocess.run([binary, *argv[1:]], capture_output=True, text=True, env=env, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ExecutorError(f"{argv[0]} failed: {exc}") from exc
        if check and done.returncode != 0:
            raise ExecutorError(f"{argv[0]} exit {done.returncode}: {(done.stderr or done.stdout).strip()[:300]}")
        return done

    def script(self, spec: JobSpec) -> str:
        lines = ["#!/bin/bash", f"#SBATCH --job-name={spec.key}", f"#SBATCH --output={spec.job_dir}/log.txt",
                 f"#SBATCH --cpus-per-task={max(1, spec.cpus)}"]
        if spec.gpus:
            lines.append(f"#SBATCH --gres=gpu:{spec.gpus}")
        time_limit = spec.time_limit_min or self.options.get("time_limit_min")
        if time_limit:
            lines.append(f"#SBATCH --time={int(time_limit)}")
        for option in ("partition", "account"):
            if self.options.get(option):
                lines.append(f"#SBATCH --{option}={self.options[option]}")
        lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(spec.env.items())]
        lines += [f"cd {shlex.quote(spec.workdir or spec.job_dir)} || exit 97",
                  shlex.join(spec.argv),
                  "code=$?",
                  f"echo $code > {shlex.quote(spec.job_dir)}/exitcode",
                  "exit $code"]
        return "\n".join(lines) + "\n"

    def _find(self, key: str) -> str | None:
        done = self._run("squeue", "-h", "--name", key, "-o", "%i", check=False)
        ids = done.stdout.split()
        return ids[0] if ids else None

    def submit(self, spec: JobSpec) -> str:
        job_dir = Path(spec.job_dir)
        job_dir.mkdir(parents=True, exist_ok=True)
        known = job_dir / "slurm_job_id"
        if known.exists() and known.read_text().strip():
            return known.read_text().strip()
        existing = self._find(spec.key)
        if existing:
            known.write_text(existing)
            return existing
        script = job_dir / "job.sbatch"
        script.write_text(self.script(spec))
        job_id = self._run("sbatch", "--parsable", str(script)).stdout.strip().split(";")[0]
        if not job_id.isdigit():
            raise ExecutorError(f"sbatch answered {job_id!r}")
        known.write_text(job_id)
        return job_id

    def status(self, external_id: str, job_dir: str = "") -> BackendStatus:
        done = self._run("squeue", "-h", "-j", external_id, "-o", "%T|%r", check=False)
        line = done.stdout.strip()
        if done.returncode == 0 and line:
            state, _, reason = line.partition("|")
            return BackendStatus(_STATES.get(state, JobState.RUNNING), message=f"{state} {reason}".strip(),
                                 raw={"state": state, "reason": reason})
        shown = self._run("scontrol", "show", "job", external_id, check=False)
        state_match = re.search(r"JobState=(\S+)", shown.stdout)
        if shown.returncode == 0 and state_match:
            exit_match = re.search(r"ExitCode=(\d+):(\d+)", shown.stdout)
            code = int(exit_match.group(1)) if exit_match else None
            state = state_match.group(1)
            reason = re.search(r"Reason=(\S+)", shown.stdout)
            return BackendStatus(_STATES.get(state, JobState.LOST), exit_code=code,
                                 message=f"{state} {reason.group(1) if reason else ''}".strip(), raw={"state": state})
        return (self.status_from_files(job_dir) if job_dir else None) or BackendStatus(
            JobState.LOST, message="Slurm no longer knows this job")

    def status_from_files(self, job_dir: str) -> BackendStatus | None:
        """After Slurm forgot a job: the exit code the batch script left behind, if any."""
        path = Path(job_dir) / "exitcode"
        if not path.exists():
            return None
        code = int(path.read_text().strip() or 1)
        return BackendStatus(JobState.SUCCEEDED if code == 0 else JobState.FAILED, exit_code=code,
                             message=f"exit code {code}")

    def logs(self, external_id: str, cursor: int = 0, job_dir: str = "") -> tuple[str, int]:
        if not job_dir:
            return "", cursor
        return read_from(str(Path(job_dir) / "log.txt"), cursor)

    def cancel(self, external_id: str) -> None:
        self._run("scancel", external_id)

    def health(self) -> dict:
        try:
            done = self._run("sinfo", "-h", "-o", "%P %a %D %C")
        except ExecutorError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "partitions": done.stdout.strip().splitlines()}
