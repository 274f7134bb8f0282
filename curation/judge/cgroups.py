"""Limits per solution, not per process: one cgroup per sandbox, driven from the host.

Rlimits are per process: eight children of 200 MiB each, or CPU spread over processes, slip
through them.  A cgroup holds every process of a solution, so its memory limit, pid limit and
CPU accounting cover them all.  The host (never the sandbox: the cgroup files are not visible
inside it) creates the group, moves the sandbox's supervisor into it before it forks anything,
resets the counters before each test and reads them after.

Which hierarchy (:func:`detect`):

* ``cgroup-v2`` where a cgroup2 mount offers the memory and pids controllers to a group we may
  create (a delegated subtree);
* ``cgroup-v1`` where the v1 ``memory``, ``pids`` and ``cpuacct`` hierarchies are writable
  (these machines, as root);
* otherwise ``rlimits-only``: every result says so (``JudgeReport.limits``) and the rlimits
  of each process are all there is.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

V1, V2, NONE = "cgroup-v1", "cgroup-v2", "rlimits-only"
GROUP = "microcoder-judge"

_detected: tuple[str, dict] | None = None
_lock = threading.Lock()


def _mounts() -> list[tuple[str, str, set[str]]]:
    out = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields, rfields = left.split(), right.split()
                if len(rfields) < 3 or rfields[0] not in ("cgroup", "cgroup2"):
                    continue
                out.append((rfields[0], fields[4], set(rfields[2].split(","))))
    except OSError:
        pass
    return out


def _writable_dir(base: Path) -> bool:
    probe = base / f".probe-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        probe.rmdir()
    except OSError:
        pass
    return True


def detect() -> tuple[str, dict]:
    """(kind, roots): the hierarchy this process can use, probed once."""
    global _detected
    with _lock:
        if _detected is not None:
            return _detected
        mounts = _mounts()
        roots: dict[str, Path] = {}
        for fstype, point, opts in mounts:
            if fstype != "cgroup2":
                continue
            try:
                ctrl = set((Path(point) / "cgroup.controllers").read_text().split())
            except OSError:
                continue
            if {"memory", "pids"} <= ctrl and _writable_dir(Path(point)):
                base = Path(point) / GROUP
                try:
                    base.mkdir(exist_ok=True)
                    (Path(point) / "cgroup.subtree_control").write_text("+memory +pids")
                    (base / "cgroup.subtree_control").write_text("+memory +pids")
                    _detected = (V2, {"unified": base})
                    return _detected
                except OSError as e:
                    log.info("judge: cgroup v2 at %s not delegated: %s", point, e)
        for fstype, point, opts in mounts:
            if fstype != "cgroup":
                continue
            for name in ("memory", "pids", "cpuacct"):
                if name in opts and name not in roots:
                    roots[name] = Path(point)
        if set(roots) == {"memory", "pids", "cpuacct"} and all(
                _writable_dir(p) for p in roots.values()):
            bases = {}
            try:
                for name, p in roots.items():
                    (p / GROUP).mkdir(exist_ok=True)
                    bases[name] = p / GROUP
                _detected = (V1, bases)
                return _detected
            except OSError as e:
                log.info("judge: cgroup v1 not writable: %s", e)
        _detected = (NONE, {})
        return _detected


def _write(path: Path, value) -> bool:
    try:
        path.write_text(str(value))
        return True
    except OSError:
        return False


class SandboxCgroup:
    """The cgroup(s) of one sandbox.  ``kind`` is V1, V2 or NONE (then every call is a no-op)."""

    def __init__(self) -> None:
        self.kind, roots = detect()
        self.dirs: dict[str, Path] = {}
        if self.kind == NONE:
            return
        name = f"sb-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            for ctrl, base in roots.items():
                d = base / name
                d.mkdir()
                self.dirs[ctrl] = d
        except OSError as e:
            log.warning("judge: cannot create a cgroup (%s); rlimits only", e)
            self.remove()
            self.kind = NONE
        self._oom = 0
        self._base_mem = 0
        self._fds: dict[str, int] = {}
        self._paths: dict[tuple[str, str], str] = {}

    # The per-test reads and writes go through descriptors opened once (a test costs a few
    # pread/pwrite calls, not a dozen opens of sysfs files).
    def _path(self, ctrl: str, name: str) -> str:
        key = (ctrl, name)
        p = self._paths.get(key)
        if p is None:
            p = self._paths[key] = str(self.dirs[ctrl] / name)
        return p

    def _fd(self, path, write: bool) -> int:
        fd = self._fds.get(path)
        if fd is None:
            fd = self._fds[path] = os.open(path, os.O_RDWR if write else os.O_RDONLY)
        return fd

    def _get(self, path: Path) -> str:
        try:
            return os.pread(self._fd(path, False), 4096, 0).decode()
        except OSError:
            return ""

    def _int(self, path: Path) -> int:
        try:
            return int(self._get(path).split()[0])
        except (ValueError, IndexError):
            return 0

    def _put(self, path: Path, value) -> None:
        try:
            os.pwrite(self._fd(path, True), str(value).encode(), 0)
        except OSError:
            pass

    @property
    def active(self) -> bool:
        return self.kind != NONE

    def attach(self, pid: int) -> bool:
        """Move ``pid`` (before it forks) into the group."""
        if not self.active:
            return False
        files = ("cgroup.procs",) if self.kind == V2 else ("cgroup.procs",)
        ok = all(_write(d / files[0], pid) for d in self.dirs.values())
        if not ok:
            log.warning("judge: cannot move the sandbox into its cgroup; rlimits only")
            self.kind = NONE
        return ok

    def set_limits(self, memory_bytes: int, pids: int) -> None:
        if (memory_bytes, pids) == getattr(self, "_limits", None):
            return                      # the same limits as the last solution's
        self._limits = (memory_bytes, pids)
        if self.kind == V1:
            m = self.dirs["memory"]
            # memsw first when lowering would fail; ignore where swap accounting is off
            _write(m / "memory.limit_in_bytes", memory_bytes)
            _write(m / "memory.memsw.limit_in_bytes", memory_bytes)
            _write(m / "memory.limit_in_bytes", memory_bytes)
            _write(self.dirs["pids"] / "pids.max", pids)
        elif self.kind == V2:
            u = self.dirs["unified"]
            _write(u / "memory.max", memory_bytes)
            _write(u / "memory.swap.max", 0)
            _write(u / "pids.max", pids)

    def usage(self) -> int:
        if self.kind == V1:
            return self._int(self._path("memory", "memory.usage_in_bytes"))
        if self.kind == V2:
            return self._int(self._path("unified", "memory.current"))
        return 0

    def _oom_kills(self) -> int:
        path = (self._path("memory", "memory.oom_control") if self.kind == V1
                else self._path("unified", "memory.events"))
        for line in self._get(path).splitlines():
            k, _, v = line.partition(" ")
            if k == "oom_kill":
                try:
                    return int(v)
                except ValueError:
                    return 0
        return 0

    def _cpu_ns(self) -> int:
        if self.kind == V1:
            return self._int(self._path("cpuacct", "cpuacct.usage"))
        for line in self._get(self._path("unified", "cpu.stat")).splitlines():
            k, _, v = line.partition(" ")
            if k == "usage_usec":
                try:
                    return int(v) * 1000
                except ValueError:
                    return 0
        return 0

    def reset(self) -> None:
        """Before a test: peak memory and CPU counters start from here."""
        if not self.active:
            return
        if self.kind == V1:
            self._put(self._path("memory", "memory.max_usage_in_bytes"), 0)
            self._put(self._path("cpuacct", "cpuacct.usage"), 0)
            self._cpu0 = 0
        else:
            self._cpu0 = self._cpu_ns()
            self._put(self._path("unified", "memory.peak"), 0)   # resettable on newer kernels
        self._oom = self._oom_kills()
        self._base_mem = self.usage()

    def read(self) -> dict:
        """After a test: {"cg_cpu": s, "cg_mem_kb": peak above the pre-test usage, "oom": n}."""
        if not self.active:
            return {}
        cpu = max(0, self._cpu_ns() - self._cpu0) / 1e9
        if self.kind == V1:
            peak = self._int(self._path("memory", "memory.max_usage_in_bytes"))
        else:
            peak = self._int(self._path("unified", "memory.peak"))
        return {"cg_cpu": cpu, "cg_mem_kb": max(0, peak - self._base_mem) // 1024,
                "oom": self._oom_kills() - self._oom}

    def procs(self) -> list[int]:
        if not self.active:
            return []
        d = next(iter(self.dirs.values()))
        try:
            return [int(x) for x in (d / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self) -> None:
        for _ in range(20):
            pids = self.procs()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def remove(self) -> None:
        for fd in self._fds.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = {}
        self.kill_all()
        for d in self.dirs.values():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    import time
                    time.sleep(0.01)
        self.dirs = {}
