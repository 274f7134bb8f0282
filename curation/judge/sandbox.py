"""Host side of the sandbox: bubblewrap isolation + the pre-forked driver.

One call of :func:`run_batch` starts ONE sandbox for a solution and a batch of tests:

    bwrap --unshare-all (net, pid, ipc, uts, user, cgroup) --uid 65534 --gid 65534
          --ro-bind /usr /usr  (+ /lib, /lib64, /bin, /sbin as on the host)
          --proc /proc --dev /dev --size <cap> --tmpfs /tmp
          --ro-bind <job>/judge /judge   (driver, job spec, test inputs)
          --ro-bind <job>/box /box       (only the solution's files; cwd)
          [--bind <out> /out]            (compilation output only)
          --remount-ro / --clearenv --setenv PATH... --die-with-parent --new-session
          /usr/bin/python3 -I /judge/driver.py /judge/job.json

Nothing of the project, /root, /home, /etc, /var/run/postgresql or the worker's
environment is visible; the network namespace is empty (no loopback services).

When the worker runs as root, bwrap itself is started under a *leased, otherwise unused*
host uid (see ``SandboxConfig.uid_range``), because RLIMIT_NPROC is not enforced for
root: with a non-root owner the per-test RLIMIT_NPROC really contains fork and thread
bombs.  The same uid lets the host kill every straggler after the run (``kill -9 -1``
executed as that uid), which also covers the rlimits-only mode.

If bubblewrap is missing or broken the judge refuses to run (:class:`SandboxUnavailable`)
unless ``SandboxConfig(allow_unsandboxed=True)``; then the driver runs directly on the
host with rlimits only, every result says ``isolation="rlimits-only"`` and every run logs
a warning.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import resource
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .results import Limits

log = logging.getLogger(__name__)

DRIVER_SOURCE_PATH = Path(__file__).with_name("driver.py")
ISOLATION_BWRAP = "bubblewrap"
ISOLATION_RLIMITS = "rlimits-only"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is not usable and unsandboxed execution was not allowed."""


@dataclass(frozen=True)
class SandboxConfig:
    """How programs are isolated.

    allow_unsandboxed: run with rlimits only when bubblewrap is unusable (never silently).
    bwrap_path: bubblewrap binary (default: ``shutil.which("bwrap")``).
    python_path: interpreter used inside the sandbox (the system Python, stdlib only).
    tmpfs_size_mb: size cap of the private writable /tmp.
    uid_range: host uids leased for runs when the worker is root (must be unused).
    extra_ro_binds: additional host paths bound read-only at the same place.
    work_dir: where job directories are created (default: the system temp dir).
    cache_dir: where compiled binaries are cached by code hash.
    startup_timeout_s: time allowed for the sandbox + driver to start.
    python_packages: pure-Python packages of the worker's environment made importable in
        the sandbox (copied once into a judge-owned directory that is bound read-only;
        the worker's virtualenv itself is never visible).  LeetCode provides
        sortedcontainers, so it is on by default; missing packages are skipped.
    """
    allow_unsandboxed: bool = False
    bwrap_path: str | None = None
    python_path: str = "/usr/bin/python3"
    tmpfs_size_mb: int = 64
    uid_range: tuple[int, int] = (61000, 64999)
    extra_ro_binds: tuple[str, ...] = ()
    work_dir: str | None = None
    cache_dir: str | None = None
    startup_timeout_s: float = 15.0
    python_packages: tuple[str, ...] = ("sortedcontainers",)

    def resolved_bwrap(self) -> str | None:
        return self.bwrap_path or shutil.which("bwrap")

    def base_dir(self) -> Path:
        base = Path(self.work_dir or tempfile.gettempdir()) / f"microcoder-judge-{os.getuid()}"
        base.mkdir(mode=0o711, exist_ok=True)
        os.chmod(base, 0o711)   # others may traverse (the sandbox uid) but not list
        return base

    def cache_path(self) -> Path:
        p = Path(self.cache_dir) if self.cache_dir else self.base_dir() / "cache"
        p.mkdir(mode=0o711, parents=True, exist_ok=True)
        return p


# ----------------------------------------------------------------------------------
# bubblewrap detection
# ----------------------------------------------------------------------------------
_probe_cache: dict[tuple, tuple[bool, str]] = {}
_probe_lock = threading.Lock()


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("lib", "lib64", "lib32", "libx32", "bin", "sbin"):
        p = Path("/") / name
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), f"/{name}"]
        elif p.is_dir():
            args += ["--ro-bind", f"/{name}", f"/{name}"]
    return args


_pylib_lock = threading.Lock()


def python_packages_dir(config: SandboxConfig) -> Path | None:
    """A directory holding copies of ``config.python_packages`` (None when empty)."""
    if not config.python_packages:
        return None
    import importlib.util
    with _pylib_lock:
        root = config.base_dir() / "pylib"
        root.mkdir(mode=0o755, exist_ok=True)
        os.chmod(root, 0o755)
        for name in config.python_packages:
            dest = root / name
            if dest.exists() or (root / f"{name}.py").exists():
                continue
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.origin:
                log.info("judge: python package %s not installed; not provided", name)
                continue
            origin = Path(spec.origin)
            tmp = Path(tempfile.mkdtemp(dir=root))
            if origin.name == "__init__.py":
                shutil.copytree(origin.parent, tmp / name,
                                ignore=shutil.ignore_patterns("__pycache__"))
                src_final = tmp / name
            else:
                shutil.copyfile(origin, tmp / origin.name)
                src_final, dest = tmp / origin.name, root / origin.name
            for dirpath, dirnames, filenames in os.walk(tmp):
                os.chmod(dirpath, 0o755)
                for f in filenames:
                    os.chmod(os.path.join(dirpath, f), 0o644)
            os.replace(src_final, dest)
            shutil.rmtree(tmp, ignore_errors=True)
        return root


def bwrap_status(config: SandboxConfig | None = None) -> tuple[bool, str]:
    """(usable, reason): bwrap exists and a trivial sandboxed run works (cached)."""
    config = config or SandboxConfig()
    bwrap = config.resolved_bwrap()
    key = (bwrap, config.python_path, os.getuid())
    with _probe_lock:
        if key in _probe_cache:
            return _probe_cache[key]
        if not bwrap or not os.access(bwrap, os.X_OK):
            res = (False, "bwrap not found")
        else:
            cmd = [bwrap, *_system_binds(), "--proc", "/proc", "--dev", "/dev",
                   "--tmpfs", "/tmp", "--unshare-all", "--die-with-parent", "--new-session",
                   "--uid", "65534", "--gid", "65534", "--clearenv",
                   config.python_path, "-I", "-c", "import os; print(os.getuid())"]
            kw = {}
            if os.getuid() == 0:
                kw = {"user": config.uid_range[0], "group": config.uid_range[0],
                      "extra_groups": []}
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=20,
                                   cwd="/", **kw)
                ok = p.returncode == 0 and p.stdout.strip() == "65534"
                res = (ok, "ok" if ok else f"bwrap probe failed rc={p.returncode}: "
                       f"{(p.stderr or p.stdout).strip()[:300]}")
            except (OSError, subprocess.SubprocessError) as e:
                res = (False, f"bwrap probe failed: {e}")
        _probe_cache[key] = res
        return res


def resolve_isolation(config: SandboxConfig) -> str:
    ok, why = bwrap_status(config)
    if ok:
        return ISOLATION_BWRAP
    if config.allow_unsandboxed:
        return ISOLATION_RLIMITS
    raise SandboxUnavailable(
        f"bubblewrap is not usable ({why}); refusing to run untrusted code. "
        "Pass SandboxConfig(allow_unsandboxed=True) to run with rlimits only.")


# ----------------------------------------------------------------------------------
# uid leases (root only)
# ----------------------------------------------------------------------------------
class _UidLease:
    """An exclusive lease on one host uid for the duration of a run (flock based)."""

    def __init__(self, config: SandboxConfig):
        self.uid: int | None = None
        self._fd: int | None = None
        if os.getuid() != 0:
            return
        lockdir = config.base_dir() / "uid-locks"
        lockdir.mkdir(mode=0o700, exist_ok=True)
        lo, hi = config.uid_range
        span = hi - lo + 1
        start = random.randrange(span)
        for k in range(span):
            uid = lo + (start + k) % span
            fd = os.open(lockdir / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise RuntimeError("no free sandbox uid")

    def sweep(self) -> None:
        """Kill every process owned by the leased uid (stragglers of the run)."""
        if self.uid is None:
            return
        try:
            subprocess.run(["kill", "-9", "-1"], user=self.uid, group=self.uid,
                           extra_groups=[], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.SubprocessError):
            pass

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _count_user_tasks(uid: int) -> int:
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                uid_ok = threads = None
                for line in f:
                    if line.startswith("Uid:"):
                        uid_ok = int(line.split()[1]) == uid
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
                if uid_ok:
                    n += threads or 1
        except (OSError, ValueError):
            continue
    return n


# ----------------------------------------------------------------------------------
# batch execution
# ----------------------------------------------------------------------------------
@dataclass
class BatchTest:
    stdin: bytes | None = None        # written to a file, the child's stdin
    argv: list[str] | None = None     # per-test argv (e.g. checker runs)
    args: str | None = None           # functional mode: argument text
    files: dict[str, bytes] | None = None   # per-test files, placed in /judge/t<i>/


@dataclass
class BatchOutcome:
    results: list[dict]               # raw driver results (one per test, in order)
    isolation: str
    compile_error: str | None = None
    elapsed: float = 0.0
    sandboxes: int = 0
    notes: list[str] = field(default_factory=list)


def _write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def run_batch(*, kind: str, mode: str = "stdin", box_files: dict[str, bytes],
              source: str | None = None, argv: list[str] | None = None,
              entry: str | None = None, prelude: str | None = None,
              tests: list[BatchTest], limits: Limits, config: SandboxConfig,
              out_dir: str | None = None) -> BatchOutcome:
    """Run ``tests`` in as few sandboxes as possible (one, unless the solution kills the
    driver, in which case the remaining tests continue in a fresh sandbox).

    kind="python": ``source`` (a name in box_files) is compiled once and executed in a
    forked child per test.  kind="exec": ``argv`` (paths inside the sandbox; ``{box}``
    and ``{judge}`` are substituted) is exec'd per test.
    """
    isolation = resolve_isolation(config)
    if isolation == ISOLATION_RLIMITS:
        log.warning("judge: running untrusted code WITHOUT bubblewrap (rlimits-only)")
    t0 = time.monotonic()
    results: dict[int, dict] = {}
    outcome = BatchOutcome(results=[], isolation=isolation)
    pending = list(range(len(tests)))
    while pending:
        done, compile_error, note = _run_sandbox(
            kind=kind, mode=mode, box_files=box_files, source=source, argv=argv,
            entry=entry, prelude=prelude, tests=tests, indices=pending, limits=limits,
            config=config, isolation=isolation, out_dir=out_dir)
        outcome.sandboxes += 1
        if note:
            outcome.notes.append(note)
        if compile_error is not None:
            outcome.compile_error = compile_error
            break
        results.update(done)
        if not done:   # nothing progressed: mark the rest as system errors
            for i in pending:
                results[i] = {"ev": "result", "i": i, "system_error": note or "sandbox failed"}
            break
        pending = [i for i in pending if i not in results]
    outcome.results = [results.get(i, {"ev": "result", "i": i, "system_error": "not run"})
                       for i in range(len(tests))]
    outcome.elapsed = time.monotonic() - t0
    return outcome


def _run_sandbox(*, kind, mode, box_files, source, argv, entry, prelude, tests, indices,
                 limits, config, isolation, out_dir):
    base = config.base_dir()
    jobdir = Path(tempfile.mkdtemp(prefix="job-", dir=base))
    lease = _UidLease(config)
    try:
        os.chmod(jobdir, 0o755)
        judge = jobdir / "judge"
        box = jobdir / "box"
        scratch = jobdir / "tmp"
        for d in (judge, box, scratch):
            d.mkdir()
            os.chmod(d, 0o755)
        if lease.uid is not None:
            os.chown(scratch, lease.uid, lease.uid)
        os.chmod(scratch, 0o700 if lease.uid is not None else 0o777)
        sandboxed = isolation == ISOLATION_BWRAP
        J = "/judge" if sandboxed else str(judge)
        B = "/box" if sandboxed else str(box)
        T = "/tmp" if sandboxed else str(scratch)
        for name, data in box_files.items():
            _write(box / name, data, 0o755 if name.endswith(".bin") else 0o644)
        shutil.copyfile(DRIVER_SOURCE_PATH, judge / "driver.py")
        os.chmod(judge / "driver.py", 0o644)
        (judge / "in").mkdir()
        os.chmod(judge / "in", 0o755)
        if prelude:
            _write(judge / "prelude.py", prelude)

        def sub(s: str) -> str:
            s = s.replace("{box}", B).replace("{judge}", J).replace("{tmp}", T)
            if out_dir:
                s = s.replace("{out}", "/out" if sandboxed else out_dir)
            return s

        spec_tests = []
        for i in indices:
            t = tests[i]
            st: dict = {"i": i}
            if t.stdin is not None:
                _write(judge / "in" / str(i), t.stdin)
                st["input"] = f"{J}/in/{i}"
            if t.files:
                tdir = judge / f"t{i}"
                tdir.mkdir()
                os.chmod(tdir, 0o755)
                for name, data in t.files.items():
                    _write(tdir / name, data)
            if t.argv:
                st["argv"] = [sub(a).replace("{test}", f"{J}/t{i}") for a in t.argv]
            if t.args is not None:
                st["args"] = t.args
            spec_tests.append(st)

        pylib = python_packages_dir(config) if kind == "python" else None
        env = dict(_child_env(T))
        nproc_extra = 0
        if os.getuid() != 0 and limits.processes:
            nproc_extra = _count_user_tasks(os.getuid())
        job = {
            "kind": kind, "mode": mode, "cwd": B,
            "source": f"{B}/{source}" if source else None,
            "argv": [sub(a) for a in argv] if argv else None,
            "entry": entry, "prelude": f"{J}/prelude.py" if prelude else None,
            "limits": limits.to_driver(nproc_extra=nproc_extra + 2),
            "tests": spec_tests,
            # Inside the PID namespace kill(-1) only reaches the sandbox's processes.
            # Rlimits-only as root: the leased uid owns nothing else, so kill(-1) as that
            # uid is equally confined.  Never as an ordinary user (it would kill its
            # other processes).
            "sweep": sandboxed or lease.uid is not None,
            "scratch": T,
            "env": env,
            "pylib": ("/opt/judge-pylib" if sandboxed else str(pylib)) if pylib else None,
        }
        _write(judge / "job.json", json.dumps(job))

        if sandboxed:
            cmd = [config.resolved_bwrap(), *_system_binds()]
            for p in config.extra_ro_binds:
                cmd += ["--ro-bind", p, p]
            cmd += ["--proc", "/proc", "--dev", "/dev",
                    "--size", str(int(config.tmpfs_size_mb) << 20), "--tmpfs", "/tmp",
                    "--ro-bind", str(judge), "/judge", "--ro-bind", str(box), "/box"]
            if out_dir:
                cmd += ["--bind", out_dir, "/out"]
            if pylib:
                cmd += ["--ro-bind", str(pylib), "/opt/judge-pylib"]
            cmd += ["--remount-ro", "/", "--chdir", "/box",
                    "--unshare-all", "--die-with-parent", "--new-session",
                    "--uid", "65534", "--gid", "65534", "--hostname", "sandbox",
                    "--clearenv"]
            for k, v in env.items():
                cmd += ["--setenv", k, v]
            cmd += [config.python_path, "-I", "/judge/driver.py", "/judge/job.json"]
            cwd = "/"
        else:
            cmd = [config.python_path, "-I", str(judge / "driver.py"), str(judge / "job.json")]
            cwd = str(box)
        kw = {}
        if lease.uid is not None:
            kw = {"user": lease.uid, "group": lease.uid, "extra_groups": []}
            if out_dir:
                os.chown(out_dir, lease.uid, lease.uid)
        stack = min(limits.stack_mb, limits.memory_mb) << 20

        def preexec():  # only setrlimit here: async-signal-safe enough
            try:
                resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            except (ValueError, OSError):
                pass

        budget = config.startup_timeout_s + sum(
            limits.effective_wall_s + 0.5 for _ in indices)
        return _drive(cmd, cwd, env, kw, preexec, budget, lease)
    finally:
        lease.sweep()
        lease.release()
        shutil.rmtree(jobdir, ignore_errors=True)


def _child_env(tmp: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "HOME": tmp, "TMPDIR": tmp, "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
    }


def _drive(cmd, cwd, env, kw, preexec, budget, lease):
    """Start the sandbox, collect JSON lines.  Returns (done, compile_error, note)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, close_fds=True, preexec_fn=preexec, **kw)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    buf, err = bytearray(), bytearray()
    done: dict[int, dict] = {}
    started: int | None = None
    finished = False
    compile_error = None
    deadline = time.monotonic() + budget
    open_streams = 2
    killed = False
    while open_streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            killed = True
            break
        for key, _ in sel.select(timeout=min(remaining, 1.0)):
            data = os.read(key.fileobj.fileno(), 1 << 20)
            if not data:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            if key.data == "err":
                if len(err) < 65536:
                    err += data[:65536 - len(err)]
                continue
            buf += data
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                line, buf = bytes(buf[:nl]), buf[nl + 1:]
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                ev = msg.get("ev")
                if ev == "start":
                    started = msg["i"]
                elif ev == "result":
                    done[msg["i"]] = msg
                    started = None
                elif ev == "compile_error":
                    compile_error = msg.get("message", "")
                elif ev == "done":
                    finished = True
    if killed or open_streams:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    sel.close()
    proc.stdout.close()
    proc.stderr.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    note = None
    if compile_error is not None:
        return done, compile_error, None
    if not finished:
        stderr_text = err.decode("utf-8", "replace").strip()
        if started is not None:
            # The solution killed the driver (e.g. kill(getppid()) / kill(-1)) or the
            # batch ran out of time: the running test is the culprit.
            done[started] = {"ev": "result", "i": started, "driver_died": True,
                             "timed_out": killed, "stderr": stderr_text[-2000:]}
            note = f"driver died during test {started}"
        else:
            note = f"sandbox failed (rc={proc.returncode}): {stderr_text[-1000:]}"
    return done, None, note
