import os
import time
import uuid

import pytest

from curation.judge import Limits, SandboxConfig, bwrap_status

CONFIG = SandboxConfig()
HOSTILE_LIMITS = Limits(time_s=1.0, wall_s=2.5, memory_mb=256, output_bytes=1 << 20,
                        processes=16, file_size_mb=8)


def _procs():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            st = os.stat(f"/proc/{pid}")
        except OSError:
            continue
        yield int(pid), st.st_uid, cmd


def survivors(marker: str | None = None) -> list:
    """Processes a judge run left behind: those carrying ``marker`` in their command line,
    and (as root) those under a sandbox uid that no live sandbox holds, or inside one of
    this process's idle sandboxes besides its supervisor.  Other judges running on the
    machine at the same time hold their uids' leases, so they never count."""
    from curation.judge.sandbox import stray_processes
    found = [(pid, uid, cmd[:200]) for pid, uid, cmd in _procs()
             if pid != os.getpid() and marker and marker.encode() in cmd]
    return found + stray_processes(CONFIG)


def assert_no_survivors(marker: str | None = None, wait: float = 2.0) -> None:
    deadline = time.monotonic() + wait
    while True:
        left = survivors(marker)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"processes survived the run: {left}"


@pytest.fixture
def marker() -> str:
    return "mcjudge-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def sandbox_ok():
    """Use in modules that need bubblewrap: pytestmark = usefixtures("sandbox_ok")."""
    ok, why = bwrap_status(CONFIG)
    if not ok:
        pytest.skip(f"bubblewrap unusable here: {why}")
