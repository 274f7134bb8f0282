"""Real backends for the tests, started once per session and stopped at its end: a Ray head (the
Jobs REST API of its dashboard) and a single-node Slurm (slurmctld + slurmd + a private munged).

Both use free ports and private folders, never the defaults (Redis holds 6379; other engineers may
run their own Ray), and stop only the processes they started: no `ray stop`, which would stop
every Ray on the machine.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_range(size: int = 40) -> int:
    """The first port of `size` consecutive free ones (Ray's worker ports)."""
    for _ in range(50):
        start = free_port()
        if start + size > 65000:
            continue
        ok = True
        for port in range(start, start + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return start
    raise RuntimeError("no free port range")


def _pids_mentioning(marker: str) -> list[int]:
    """Processes whose command line names `marker`, or that hold a file under it open: Ray's
    agents retitle themselves (`ray::DashboardAgent`) and its client server's command line names
    no folder, but all of them keep their logs in the session's temp folder open."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().decode("utf-8", "replace")
        except OSError:
            continue
        if marker in cmdline or _holds_open(int(entry), marker):
            pids.append(int(entry))
    return pids


def _holds_open(pid: int, marker: str) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if marker in os.readlink(f"/proc/{pid}/fd/{fd}"):
                return True
        except OSError:
            continue
    return False


class RayHead:
    def __init__(self, ray_bin: str):
        self.ray_bin = ray_bin
        # Short: Ray puts Unix sockets under it (108-byte limit).
        self.temp_dir = tempfile.mkdtemp(prefix="mcray", dir="/tmp")
        self.dashboard_port = free_port()
        self.address = f"http://127.0.0.1:{self.dashboard_port}"

    def start(self, timeout: float = 240.0, tries: int = 3) -> str:
        """Start the head; on a loaded machine the raylet may give up waiting for its dashboard
        agent (a fixed ~16 s wait inside Ray), so a failed start is cleaned up and tried again."""
        for attempt in range(1, tries + 1):
            try:
                return self._start_once(timeout)
            except (RuntimeError, subprocess.TimeoutExpired):
                self.stop()
                if attempt == tries:
                    raise
                self.temp_dir = tempfile.mkdtemp(prefix="mcray", dir="/tmp")
                self.dashboard_port = free_port()
                self.address = f"http://127.0.0.1:{self.dashboard_port}"
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> str:
        workers = free_port_range(40)
        argv = [self.ray_bin, "start", "--head", f"--port={free_port()}", "--num-cpus=2",
                "--dashboard-host=127.0.0.1", f"--dashboard-port={self.dashboard_port}", "--include-dashboard=true",
                f"--temp-dir={self.temp_dir}", "--disable-usage-stats",
                f"--ray-client-server-port={free_port()}", f"--node-manager-port={free_port()}",
                f"--object-manager-port={free_port()}", f"--metrics-export-port={free_port()}",
                f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
                f"--runtime-env-agent-port={free_port()}", f"--min-worker-port={workers}",
                f"--max-worker-port={workers + 39}"]
        # A loaded 2-core machine can take longer than Ray's default 60 s to register the raylet.
        # Its agents, too, may take longer than the 16 s the raylet waits for their port files.
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_raylet_start_wait_time_s": "120",
               "RAY_agent_register_timeout_ms": "300000", "RAY_py_gcs_connect_timeout_s": "120",
               "RAY_gcs_rpc_server_connect_timeout_s": "120",
               # No idle workers started ahead of jobs, and patience with a slow node's health.
               "RAY_enable_worker_prestart": "0", "RAY_prestart_worker_first_driver": "0",
               "RAY_health_check_timeout_ms": "30000", "RAY_health_check_failure_threshold": "20"}
        # Ahead of the other work on the machine while it starts (root may raise priority), then
        # back to the default priority once it answers.
        prefix = ["nice", "-n", "-10"] if os.geteuid() == 0 else []
        done = subprocess.run(prefix + argv, capture_output=True, text=True, timeout=timeout, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"ray start failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.address + "/api/version", timeout=2).status_code == 200:
                    for pid in _pids_mentioning(self.temp_dir):
                        try:
                            os.setpriority(os.PRIO_PROCESS, pid, 0)
                        except (ProcessLookupError, PermissionError):
                            pass
                    return self.address
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("the Ray dashboard did not answer")

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = _pids_mentioning(self.temp_dir)
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            if pids:
                time.sleep(2)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


SLURM_CONF = """\
ClusterName=microcoder
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
AuthInfo=socket={dir}/munge.sock
CredType=cred/munge
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={host} CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    """slurmctld + slurmd on this host, with a munged on a private socket."""

    def __init__(self, root: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="mcslurm", dir="/tmp"))
        self.conf = self.dir / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.munged_pid: int | None = None

    def start(self, timeout: float = 60.0) -> str:
        for sub in ("state", "spool"):
            (self.dir / sub).mkdir()
        key = self.dir / "munge.key"
        shutil.copyfile("/etc/munge/munge.key", key)
        os.chmod(key, 0o600)
        subprocess.run(["munged", f"--socket={self.dir}/munge.sock", f"--key-file={key}",
                        f"--pid-file={self.dir}/munged.pid", f"--log-file={self.dir}/munged.log",
                        f"--seed-file={self.dir}/munged.seed", "--force"], check=True, timeout=30,
                       capture_output=True)
        self.munged_pid = int((self.dir / "munged.pid").read_text())
        self.conf.write_text(SLURM_CONF.format(host=socket.gethostname(), ctld_port=free_port(), d_port=free_port(),
                                               dir=self.dir, cpus=os.cpu_count() or 2))
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([daemon, "-f", str(self.conf)], check=True, timeout=30, env=self.env, capture_output=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=self.env)
            if done.returncode == 0 and done.stdout.strip() in ("idle", "mix", "alloc"):
                return str(self.conf)
            time.sleep(0.5)
        logs = "".join((self.dir / f).read_text()[-1500:] for f in ("slurmctld.log", "slurmd.log")
                       if (self.dir / f).exists())
        self.stop()
        raise RuntimeError(f"Slurm did not come up: {logs}")

    def stop(self) -> None:
        for name in ("slurmd.pid", "slurmctld.pid"):
            pid_file = self.dir / name
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text()), signal.SIGTERM)
                except (ProcessLookupError, ValueError):
                    pass
        time.sleep(1)
        # Jobs slurmd started (slurmstepd) mention our spool folder; the daemons our config.
        for pid in _pids_mentioning(str(self.dir)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.munged_pid:
            try:
                os.kill(self.munged_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
