"""Local executor: the job is a process group on this machine (development and CI).

The job folder holds everything: `pgid` (written once, the idempotency marker), `log.txt`
(stdout and stderr), `exitcode` (written by the wrapper shell when the command ends) and
`cancelled` (written before the group is signalled). The command is started through an
intermediate shell that exits at once, so the job survives and is never a zombie of the
Celery worker that submitted it; a restarted worker reads the same files and loses nothing.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

from .base import BackendStatus, ExecutorError, JobSpec, JobState, read_from

_WRAPPER = (
    'cd "$1" || exit 97; shift; '
    '( "$@" >>"$LOG" 2>&1 </dev/null; echo $? >"$JOBDIR/exitcode.tmp"; mv "$JOBDIR/exitcode.tmp" "$JOBDIR/exitcode" ) </dev/null >/dev/null 2>&1 & '
    'echo started'
)
CANCEL_GRACE_S = 5.0


class LocalExecutor:
    kind = "local"

    def __init__(self, options: dict | None = None):
        self.options = options or {}

    def submit(self, spec: JobSpec) -> str:
        job_dir = Path(spec.job_dir)
        job_dir.mkdir(parents=True, exist_ok=True)
        marker = job_dir / "pgid"
        if marker.exists():
            return spec.key  # already launched: never twice
        # Claim the key atomically before starting anything (two racing submits: one wins).
        try:
            fd = os.open(job_dir / "claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            for _ in range(50):
                if marker.exists():
                    return spec.key
                time.sleep(0.1)
            raise ExecutorError(f"job {spec.key} is being submitted by someone else") from None
        os.close(fd)
        (job_dir / "command.txt").write_text(shlex.join(spec.argv) + "\n")
        env = {**os.environ, **spec.env, "LOG": str(job_dir / "log.txt"), "JOBDIR": str(job_dir)}
        try:
            launcher = subprocess.Popen(
                ["/bin/sh", "-c", _WRAPPER, "sh", spec.workdir or str(job_dir), *spec.argv],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            )
            out, err = launcher.communicate(timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            (job_dir / "claim").unlink(missing_ok=True)
            raise ExecutorError(f"cannot start {spec.key}: {exc}") from exc
        if launcher.returncode != 0 or b"started" not in out:
            (job_dir / "claim").unlink(missing_ok=True)
            raise ExecutorError(f"cannot start {spec.key}: exit {launcher.returncode} {err.decode()[-300:]}")
        # The session leader's pid names the process group the command and its children share.
        marker.write_text(str(launcher.pid))
        return spec.key

    def _dir(self, external_id: str) -> Path:
        root = self.options.get("jobs_root")
        if not root:
            raise ExecutorError("local executor needs options.jobs_root")
        path = Path(root) / external_id
        if not path.resolve().is_relative_to(Path(root).resolve()):
            raise ExecutorError(f"bad job id {external_id!r}")
        return path

    @staticmethod
    def _group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def status(self, external_id: str, job_dir: str = "") -> BackendStatus:
        job_dir = self._dir(external_id)
        try:
            pgid = int((job_dir / "pgid").read_text())
        except (FileNotFoundError, ValueError):
            return BackendStatus(JobState.LOST, message="no such local job")
        exit_file = job_dir / "exitcode"
        if exit_file.exists():
            code = int(exit_file.read_text().strip() or 1)
            if (job_dir / "cancelled").exists():
                return BackendStatus(JobState.CANCELLED, exit_code=code, message="cancelled")
            return BackendStatus(JobState.SUCCEEDED if code == 0 else JobState.FAILED, exit_code=code,
                                 message=f"exit code {code}")
        if self._group_alive(pgid):
            return BackendStatus(JobState.RUNNING)
        if (job_dir / "cancelled").exists():
            return BackendStatus(JobState.CANCELLED, message="cancelled")
        return BackendStatus(JobState.LOST, message="the process group ended without an exit code")

    def logs(self, external_id: str, cursor: int = 0, job_dir: str = "") -> tuple[str, int]:
        return read_from(str(self._dir(external_id) / "log.txt"), cursor)

    def cancel(self, external_id: str) -> None:
        job_dir = self._dir(external_id)
        try:
            pgid = int((job_dir / "pgid").read_text())
        except (FileNotFoundError, ValueError):
            return
        (job_dir / "cancelled").write_text("1")
        for sig, wait in ((signal.SIGTERM, CANCEL_GRACE_S), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not self._group_alive(pgid):
                    return
                time.sleep(0.1)

    def health(self) -> dict:
        root = self.options.get("jobs_root") or ""
        return {"ok": bool(root) and os.access(Path(root).parent if not Path(root).exists() else root, os.W_OK),
                "jobs_root": root, "cpus": os.cpu_count()}
