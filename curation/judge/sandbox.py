"""Host side of the sandbox: bubblewrap, a warm pool of supervisors, the validated channel.

A **warm sandbox** is one long-lived bubblewrap process tree::

    bwrap --unshare-all (user, pid, net, ipc, uts, cgroup) --as-pid-1 --uid 0 --gid 0
          --cap-add CAP_SYS_ADMIN --cap-add CAP_SETPCAP --cap-add CAP_SYS_PTRACE
                                         (inside its user namespace only; the last
                                          lets J see every process despite hidepid)
          --ro-bind /usr /usr (+ /lib, /bin ... as on the host)  --proc /proc  --dev /dev
          --tmpfs /tmp --dir /box --dir /judge [--ro-bind <pylib> /opt/judge-pylib]
          --remount-ro / --clearenv --setenv PATH ... --die-with-parent --new-session
          /usr/bin/python3 -I -c <bootstrap>        (driver.py arrives over the pipe)

whose pid 1 (the supervisor, ``driver.py``) takes one solution at a time and forks it into
new mount, pid and ipc namespaces with fresh tmpfs ``/box`` (read-only once the files are
in), ``/judge``, ``/tmp`` and ``/dev/shm`` (``/dev`` itself read-only), and a ``/proc`` of
its own where the solution's driver is invisible.  When that solution's driver (pid 1 of
its namespace) exits, the kernel kills every process of the solution before the next one
starts.  Nothing of the project, /root, /home, /etc or the worker's environment is visible;
the network namespace is empty.

Sandboxes are started on first use, kept per process in a pool (:func:`acquire` /
:func:`release`, used by :func:`run_batch`, so every caller of ``judge_solution`` gets them
without asking) and reused across solutions.  A process that forks (Celery prefork, a
ProcessPoolExecutor) starts its own pool.

When the worker runs as root, bwrap runs under a *leased, otherwise unused* host uid
(``SandboxConfig.uid_range``; an flock per uid), so RLIMIT_NPROC holds and every straggler
can be killed by uid.  With cgroups (``cgroups.py``) the host also limits memory, pids and
CPU of the whole solution and reads its peak memory and CPU time.

The channel is validated frame by frame (known type, capped length, expected test index,
typed fields); anything else is SE for that test, never an exception.  A host-side watchdog
per test (wall limit + grace) ends a stopped or hung sandbox as TLE for that test and
continues the rest in a fresh sandbox (at most ``MAX_RESTARTS`` per batch).

If bubblewrap is missing or broken the judge refuses to run (:class:`SandboxUnavailable`)
unless ``SandboxConfig(allow_unsandboxed=True)``; then the same driver runs directly on the
host with rlimits only (one process per batch, no pool), every result says
``isolation="rlimits-only"`` and every run logs a warning.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import logging
import math
import os
import queue
import random
import resource
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import cgroups
from .driver import CHUNK, FRAME_HEAD, MAX_CONTROL, encode_frame
from .results import Limits

log = logging.getLogger(__name__)

DRIVER_SOURCE_PATH = Path(__file__).with_name("driver.py")
ISOLATION_BWRAP = "bubblewrap"
ISOLATION_RLIMITS = "rlimits-only"
MAX_RESTARTS = 3          # fresh sandboxes per batch after a failure, then SE
SHM_BYTES = 16 << 20
BOX_BYTES = 512 << 20
JUDGE_BYTES = 1 << 30
FETCH_MAX = 256 << 20
# The supervisor reads the driver's source from the pipe and runs it as __main__.
BOOTSTRAP = ("import os,struct\n"
             "n=struct.unpack('!I',os.read(0,4))[0];b=b''\n"
             "while len(b)<n:\n c=os.read(0,n-len(b))\n if not c: raise SystemExit(9)\n b+=c\n"
             "exec(compile(b,'driver.py','exec'))\n")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is not usable and unsandboxed execution was not allowed."""


@dataclass(frozen=True)
class SandboxConfig:
    """How programs are isolated.

    allow_unsandboxed: run with rlimits only when bubblewrap is unusable (never silently).
    bwrap_path: bubblewrap binary (default: ``shutil.which("bwrap")``).
    python_path: interpreter used inside the sandbox (the system Python, stdlib only).
    tmpfs_size_mb: size cap of the private writable /tmp (fresh for every test).
    uid_range: host uids leased for runs when the worker is root (must be unused).
    extra_ro_binds: additional host paths bound read-only at the same place.
    work_dir: where the judge's private directory is created (default: the system temp
        dir); the directory is created 0711, its owner and mode are checked, and a foreign
        or loose one is never used.
    cache_dir: where compiled binaries are cached by content (0700, owner checked).
    startup_timeout_s: time allowed for a sandbox to start.
    python_packages: pure-Python packages of the worker's environment made importable in
        the sandbox (copied once into a judge-owned directory that is bound read-only;
        the worker's virtualenv itself is never visible).  LeetCode provides
        sortedcontainers, so it is on by default; missing packages are skipped.
    warm_pool: reuse sandboxes across solutions (each solution still gets new namespaces).
    pool_size: idle sandboxes kept per process.
    watchdog_grace_s: how long past a test's wall limit the host waits before it declares
        the sandbox stopped (TLE for that test, a fresh sandbox for the rest).
    cgroups: limit and account per solution with cgroups where this machine allows it.
    seccomp: install the seccomp filter where python3-seccomp is available.
    reuse_process: stdin-mode Python runs the tests of a solution one after another in
        one process (a fresh ``__main__`` namespace, fresh standard streams, the random
        state, decimal context and umask of a fresh process, per test) while each ends
        clean, instead of a new process per test (driver.py, ``_runner``).  On by default;
        MICROCODER_JUDGE_REUSE_PROCESS=0 in the worker's environment (read when a
        SandboxConfig is made, e.g. at import for judge_solution's default) turns it off.
        A solution can carry work from one of its tests to the next (a table stashed in a
        class attribute of a stdlib module), so a later test is charged the CPU its process
        spent in the earlier ones: a result stands only if the test ended clean with that
        total within the time limit, or if its own CPU alone passed the limit (TLE);
        otherwise the test runs again in a fresh process and that run's verdict counts.  A
        precomputation too slow for one test therefore never passes by being spread over
        several.
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
    warm_pool: bool = True
    pool_size: int = 8
    watchdog_grace_s: float = 2.0
    cgroups: bool = True
    seccomp: bool = True
    reuse_process: bool = field(default_factory=lambda: os.environ.get(
        "MICROCODER_JUDGE_REUSE_PROCESS", "1") != "0")

    def resolved_bwrap(self) -> str | None:
        return self.bwrap_path or shutil.which("bwrap")

    def base_dir(self) -> Path:
        return _private_base(self.work_dir)

    def cache_path(self) -> Path:
        if self.cache_dir:
            p = Path(self.cache_dir)
            p.mkdir(mode=0o700, parents=True, exist_ok=True)
            return checked_private_dir(p, 0o700)
        return checked_private_dir(self.base_dir() / "cache", 0o700)


# ----------------------------------------------------------------------------------
# private directories
# ----------------------------------------------------------------------------------
class UnsafeDirectory(RuntimeError):
    """A judge directory exists but is not ours alone (another owner, a link, loose mode)."""


def checked_private_dir(path: Path, mode: int) -> Path:
    """Create ``path`` with ``mode`` or check the existing one: a real directory (not a
    link), owned by us, writable by nobody else.  Raises UnsafeDirectory otherwise."""
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise UnsafeDirectory(f"{path}: not a private directory of uid {os.getuid()} "
                              f"(owner {st.st_uid}, mode {stat.filemode(st.st_mode)})")
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)
    return path


_base_cache: dict[str | None, Path] = {}
_base_lock = threading.Lock()


def _private_base(work_dir: str | None) -> Path:
    """The judge's directory: ``<tmp>/microcoder-judge-<uid>`` (0711: the sandbox uid may
    traverse to the read-only package copy, nobody may list or write), checked on every
    process start.  If someone else planted that path, a fresh random directory is used."""
    with _base_lock:
        if work_dir in _base_cache:
            return _base_cache[work_dir]
        root = Path(work_dir or tempfile.gettempdir())
        try:
            base = checked_private_dir(root / f"microcoder-judge-{os.getuid()}", 0o711)
        except (UnsafeDirectory, OSError) as e:
            log.warning("judge: %s; using a fresh private directory", e)
            base = Path(tempfile.mkdtemp(prefix="microcoder-judge-", dir=root))
            os.chmod(base, 0o711)
        _base_cache[work_dir] = base
        return base


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
        root = checked_private_dir(config.base_dir() / "pylib", 0o755)
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
def _lock_dir(config: SandboxConfig) -> Path:
    return checked_private_dir(config.base_dir() / "uid-locks", 0o700)


class _UidLease:
    """An exclusive lease on one host uid for the life of a sandbox (flock based)."""

    def __init__(self, config: SandboxConfig):
        self.uid: int | None = None
        self._fd: int | None = None
        if os.getuid() != 0:
            return
        lockdir = _lock_dir(config)
        lo, hi = config.uid_range
        span = hi - lo + 1
        start = random.randrange(span)
        for k in range(span):
            uid = lo + (start + k) % span
            fd = os.open(lockdir / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
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
# the channel
# ----------------------------------------------------------------------------------
class ChannelError(RuntimeError):
    """The sandbox sent something the protocol does not allow."""


class SandboxDied(RuntimeError):
    """The sandbox's channel closed, or it reported a fatal error."""

    def __init__(self, message: str, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


class Watchdog(RuntimeError):
    """The sandbox did not answer in time."""


FRAME_CAPS = {b"J": MAX_CONTROL, b"O": CHUNK, b"R": CHUNK, b"V": CHUNK, b"B": CHUNK}
RESULT_FIELDS = {
    "wall": (int, float), "cpu": (int, float), "mem_kb": (int,), "exit_code": (int, type(None)),
    "signal": (int, type(None)), "timed_out": (bool,), "ole": (bool,), "out_bytes": (int,),
}
RESULT_OPTIONAL = {"fetched": (int, type(None)), "phase": (str,), "j_cpu": (int, float),
                   "carried": (int, float)}


def validate_result(msg, index: int) -> str | None:
    """Why a result event is unacceptable, or None."""
    if msg.get("i") != index or type(msg.get("i")) is not int:
        return f"result for test {msg.get('i')!r} while test {index} runs"
    for key, types in RESULT_FIELDS.items():
        if key not in msg or type(msg[key]) not in types:
            return f"result field {key!r} missing or of the wrong type"
    for key, types in RESULT_OPTIONAL.items():
        if key in msg and type(msg[key]) not in types:
            return f"result field {key!r} of the wrong type"
    extra = set(msg) - set(RESULT_FIELDS) - set(RESULT_OPTIONAL) - {"ev", "i"}
    if extra:
        return f"unknown result fields {sorted(extra)}"
    for key in ("wall", "cpu", "j_cpu", "carried"):
        if key in msg and not (math.isfinite(msg[key]) and 0 <= msg[key] < 1e6):
            return f"result field {key!r} out of range"
    if not 0 <= msg["mem_kb"] < 1 << 40 or not 0 <= msg["out_bytes"] < 1 << 40:
        return "result sizes out of range"
    if msg["exit_code"] is not None and not 0 <= msg["exit_code"] <= 255:
        return "exit code out of range"
    if msg["signal"] is not None and not 0 < msg["signal"] < 128:
        return "signal out of range"
    return None


class _Reader:
    """Frames from a pipe, with a deadline, a cap per frame type and nothing else."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()
        os.set_blocking(fd, False)

    def frame(self, deadline: float) -> tuple[bytes, bytes]:
        while True:
            if len(self.buf) >= FRAME_HEAD.size:
                kind, n = FRAME_HEAD.unpack_from(self.buf)
                cap = FRAME_CAPS.get(kind)
                if cap is None:
                    raise ChannelError(f"unknown frame type {kind!r}")
                if n > cap:
                    raise ChannelError(f"{kind!r} frame of {n} bytes (cap {cap})")
                end = FRAME_HEAD.size + n
                if len(self.buf) >= end:
                    payload = bytes(self.buf[FRAME_HEAD.size:end])
                    del self.buf[:end]
                    return kind, payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise Watchdog("no answer from the sandbox")
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                continue
            except OSError as e:
                raise SandboxDied(f"channel read failed: {e}") from e
            if not data:
                raise SandboxDied("the sandbox closed its channel")
            self.buf += data

    def event(self, deadline: float) -> dict:
        kind, payload = self.frame(deadline)
        if kind != b"J":
            raise ChannelError(f"{kind!r} frame where an event was expected")
        return parse_event(payload)


def parse_event(payload: bytes) -> dict:
    try:
        msg = json.loads(payload)
    except (ValueError, RecursionError) as e:
        raise ChannelError(f"event is not JSON: {e}") from e
    if not isinstance(msg, dict) or not isinstance(msg.get("ev"), str):
        raise ChannelError("event is not an object with 'ev'")
    if msg["ev"] == "fatal":
        raise SandboxDied("sandbox error: " + str(msg.get("message"))[:500], fatal=True)
    if msg["ev"] == "aborted":
        raise SandboxDied(f"the solution's driver died (status {msg.get('status')!r})")
    return msg


def _write_all(fd: int, data, deadline: float) -> None:
    """Write with the watchdog's deadline (a stopped sandbox stops reading)."""
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Watchdog("the sandbox stopped reading")
        _, w, _ = select.select([], [fd], [], left)
        if not w:
            continue
        try:
            n = os.write(fd, view[:1 << 20])
        except BlockingIOError:
            continue
        except OSError as e:
            raise SandboxDied(f"channel write failed: {e}") from e
        view = view[n:]


# ----------------------------------------------------------------------------------
# process spawning from one long-lived thread
# ----------------------------------------------------------------------------------
# bwrap --die-with-parent uses PR_SET_PDEATHSIG, which fires when the *thread* that forked
# it exits.  Sandboxes outlive the calls (and threads) that started them, so they are all
# forked by this one daemon thread.
_spawn_q: "queue.Queue" = queue.Queue()
_spawn_thread: threading.Thread | None = None
_spawn_lock = threading.Lock()


def _spawner() -> None:
    while True:
        args, kw, box = _spawn_q.get()
        try:
            box.append(subprocess.Popen(args, **kw))
        except BaseException as e:  # noqa: BLE001
            box.append(e)
        box_done = box_events.pop(id(box), None)
        if box_done:
            box_done.set()


box_events: dict[int, threading.Event] = {}


def _spawn(args, **kw) -> subprocess.Popen:
    with _spawn_lock:
        if _spawn_thread is None or not _spawn_thread.is_alive() or _spawn_pid != os.getpid():
            _start_spawner()
    box: list = []
    ev = threading.Event()
    box_events[id(box)] = ev
    _spawn_q.put((args, kw, box))
    ev.wait()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


_spawn_pid = -1


def _start_spawner() -> None:
    global _spawn_thread, _spawn_pid, _spawn_q
    _spawn_q = queue.Queue()
    _spawn_thread = threading.Thread(target=_spawner, name="judge-sandbox-spawner", daemon=True)
    _spawn_thread.start()
    _spawn_pid = os.getpid()


def _child_env(tmp: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "HOME": tmp, "TMPDIR": tmp, "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
    }


# ----------------------------------------------------------------------------------
# one sandbox
# ----------------------------------------------------------------------------------
@dataclass
class BatchTest:
    stdin: bytes | None = None        # the program's stdin (a file inside the sandbox)
    argv: list[str] | None = None     # per-test argv (e.g. checker runs); {box} {test} {tmp}
    args: str | None = None           # functional mode: argument text
    files: dict[str, bytes | str] | None = None   # per-test files in {test}/: bytes or a path


@dataclass
class BatchOutcome:
    results: list[dict]               # raw results (one per test, in order)
    isolation: str
    compile_error: str | None = None
    elapsed: float = 0.0
    sandboxes: int = 0
    notes: list[str] = field(default_factory=list)
    limits: str = cgroups.NONE         # cgroup-v1 | cgroup-v2 | rlimits-only
    fetched: bytes | None = None       # the file a compile job produced
    seccomp: bool = False
    retries: int = 0                   # tests the driver ran again in a fresh process


class Sandbox:
    """One supervisor: warm (bubblewrap, many jobs) or one-shot (rlimits-only, one job)."""

    def __init__(self, config: SandboxConfig, isolation: str):
        self.config = config
        self.isolation = isolation
        self.warm = isolation == ISOLATION_BWRAP
        self.owner_pid = os.getpid()
        self.jobs = 0
        self.broken = False
        self.unsettled = False      # a finished job's "idle" not read yet (see settle)
        self.lease = _UidLease(config)
        self.cg = cgroups.SandboxCgroup() if config.cgroups and (
            os.getuid() == 0) else _NoCgroup()
        self.jobdir: Path | None = None
        self.proc: subprocess.Popen | None = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # --- start ----------------------------------------------------------------------
    def _start(self) -> None:
        config = self.config
        pylib = python_packages_dir(config)
        ctx: dict = {"ns": self.warm, "seccomp": config.seccomp,
                     "tmp_bytes": int(config.tmpfs_size_mb) << 20, "shm_bytes": SHM_BYTES,
                     "box_bytes": BOX_BYTES, "judge_bytes": JUDGE_BYTES}
        self.stderr_path = Path(tempfile.mkstemp(prefix="sandbox-", suffix=".err",
                                                 dir=config.base_dir())[1])
        if self.warm:
            ctx.update(box="/box", judge="/judge", tmp="/tmp",
                       pylib="/opt/judge-pylib" if pylib else None)
            env = _child_env("/tmp")
            cmd = [config.resolved_bwrap(), *_system_binds()]
            for p in config.extra_ro_binds:
                cmd += ["--ro-bind", p, p]
            cmd += ["--proc", "/proc", "--dev", "/dev",
                    "--size", str(int(config.tmpfs_size_mb) << 20), "--tmpfs", "/tmp",
                    "--dir", "/box", "--dir", "/judge"]
            if pylib:
                cmd += ["--ro-bind", str(pylib), "/opt/judge-pylib"]
            cmd += ["--remount-ro", "/", "--chdir", "/",
                    "--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1",
                    "--uid", "0", "--gid", "0", "--cap-add", "CAP_SYS_ADMIN",
                    "--cap-add", "CAP_SETPCAP", "--cap-add", "CAP_SYS_PTRACE", "--hostname", "sandbox", "--clearenv"]
            for k, v in env.items():
                cmd += ["--setenv", k, v]
            cmd += [config.python_path, "-I", "-c", BOOTSTRAP, json.dumps(ctx)]
            cwd = "/"
        else:
            self.jobdir = Path(tempfile.mkdtemp(prefix="job-", dir=config.base_dir()))
            os.chmod(self.jobdir, 0o755)
            dirs = {}
            for name in ("box", "judge", "tmp"):
                d = self.jobdir / name
                d.mkdir(mode=0o700)
                if self.lease.uid is not None:
                    os.chown(d, self.lease.uid, self.lease.uid)
                else:
                    os.chmod(d, 0o700)
                dirs[name] = str(d)
            nproc_base = 1
            if self.lease.uid is None:
                nproc_base = _count_user_tasks(os.getuid()) + 2
            ctx.update(dirs, pylib=str(pylib) if pylib else None, nproc_base=nproc_base,
                       sweep=self.lease.uid is not None)
            env = _child_env(dirs["tmp"])
            cmd = [config.python_path, "-I", "-c", BOOTSTRAP, json.dumps(ctx)]
            cwd = dirs["box"]
        kw: dict = {}
        if self.lease.uid is not None:
            kw = {"user": self.lease.uid, "group": self.lease.uid, "extra_groups": []}
        with open(self.stderr_path, "wb") as err:
            self.proc = _spawn(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=err, start_new_session=True,
                               close_fds=True, preexec_fn=_preexec, **kw)
        self.win = self.proc.stdin.fileno()
        self.reader = _Reader(self.proc.stdout.fileno())
        deadline = time.monotonic() + config.startup_timeout_s
        source = DRIVER_SOURCE_PATH.read_bytes()
        _write_all(self.win, len(source).to_bytes(4, "big") + source, deadline)
        try:
            hello = self.reader.event(deadline)
        except (SandboxDied, Watchdog, ChannelError) as e:
            raise SandboxDied(f"sandbox did not start: {e}: {self.stderr_tail()}") from e
        if hello.get("ev") != "hello":
            raise ChannelError(f"expected hello, got {hello.get('ev')!r}")
        self.seccomp = bool(hello.get("seccomp"))
        if self.cg.active:
            pid = self._supervisor_pid()
            if pid is None or not self.cg.attach(pid):
                self.cg = _NoCgroup()
        self.baseline = self.cg.usage()
        if self.warm:
            # The supervisor now clones the first solution's driver ahead (inside the cgroup).
            _write_all(self.win, encode_frame(b"G"), deadline)

    def _supervisor_pid(self) -> int | None:
        """The supervisor's host pid (bwrap's only child; the process itself without bwrap)."""
        if not self.warm:
            return self.proc.pid
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            kids = []
        return kids[0] if len(kids) == 1 else None

    def leftovers(self) -> list[int]:
        """Processes in this sandbox's cgroup besides the supervisor and what it prepares
        ahead for the next solution: its driver J (the supervisor's only child) and J's
        zygote (J's only child, childless).  A solution's processes are never among them:
        they die with their namespace, and a new J is only cloned after that."""
        sup = self._supervisor_pid()
        procs = [p for p in self.cg.procs() if p != sup]
        if sup is None or not procs or len(procs) > 2:
            return procs

        def children(pid: int) -> list[int]:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                return [int(x) for x in f.read().split()]
        try:
            chain, pid = [], sup
            for _ in range(len(procs) + 1):
                kids = children(pid)
                if not kids:
                    break
                if len(kids) > 1:
                    return procs
                pid = kids[0]
                chain.append(pid)
        except (OSError, ValueError):
            return procs
        return [] if sorted(chain) == sorted(procs) else procs

    def stderr_tail(self) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - 2000))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def alive(self) -> bool:
        return (self.proc is not None and self.proc.poll() is None and not self.broken
                and self.owner_pid == os.getpid())

    # --- one job --------------------------------------------------------------------
    def run_job(self, job: dict, box_files: dict[str, bytes], tests: list[BatchTest],
                indices: list[int], limits: Limits, sinks, results: dict[int, dict],
                outcome: BatchOutcome) -> None:
        """Run ``indices`` of ``tests``; fills ``results``.  Raises SandboxDied / Watchdog
        / ChannelError with ``self.current`` naming the test that was running."""
        self.jobs += 1
        self.current: int | None = None
        drv = limits.to_driver()
        if self.cg.active:
            # The program's limit plus what the sandbox itself holds in the group: the
            # supervisor, the tmpfs files (its /tmp and /dev/shm, its box, the input).
            biggest = max((len(tests[i].stdin or b"") for i in indices), default=0)
            extra = (self.baseline + (int(self.config.tmpfs_size_mb) << 20) + SHM_BYTES
                     + sum(len(b) for b in box_files.values()) + biggest + (64 << 20))
            step = 16 << 20     # rounded, so that similar jobs leave the limits unchanged
            self.cg.set_limits((int(limits.memory_mb) << 20) + -(-extra // step) * step,
                               int(limits.processes or 64) + 16)
        start_deadline = time.monotonic() + self.config.startup_timeout_s
        frames = [encode_frame(b"H", json.dumps(dict(job, limits=drv)).encode())]
        for name, data in box_files.items():
            frames.append(encode_frame(b"F", json.dumps(
                {"name": name, "len": len(data), "exec": name.endswith(".bin")}).encode()))
            frames.append(data)
        frames.append(encode_frame(b"G"))
        for f in frames:
            _write_all(self.win, f, start_deadline)
        ev = self.reader.event(start_deadline + drv["wall_s"])
        if ev["ev"] == "compile_error":
            outcome.compile_error = str(ev.get("message", ""))[:100000]
            self._expect_done(start_deadline)
            return
        if ev["ev"] != "ready":
            raise ChannelError(f"expected ready, got {ev['ev']!r}")
        grace = self.config.watchdog_grace_s
        for i in indices:
            t = tests[i]
            self.current = i
            self.test_started = time.monotonic()
            head: dict = {"i": i}
            payload: list = []
            size = 0
            if t.stdin is not None:
                head["stdin_len"] = len(t.stdin)
                payload.append(t.stdin)
                size += len(t.stdin)
            if t.argv:
                head["argv"] = list(t.argv)
            if t.args is not None:
                head["args"] = t.args
            if t.files:
                head["files"] = []
                for name, data in t.files.items():
                    if isinstance(data, (bytes, bytearray)):
                        head["files"].append({"name": name, "len": len(data)})
                        payload.append(bytes(data))
                    else:
                        n = os.path.getsize(data)
                        head["files"].append({"name": name, "len": n})
                        payload.append(Path(data))
                    size += head["files"][-1]["len"]
            # Generous for the transfer (>= 20 MB/s), then the test's wall limit + grace.
            deadline = time.monotonic() + grace + size / 20e6
            self.cg.reset()
            frame = encode_frame(b"T", json.dumps(head).encode())
            if len(payload) == 1 and isinstance(payload[0], bytes) and size <= 1 << 16:
                frame, payload = frame + payload[0], []     # one write, one wakeup
            _write_all(self.win, frame, deadline)
            for part in payload:
                if isinstance(part, Path):
                    with open(part, "rb") as fh:
                        while chunk := fh.read(1 << 20):
                            _write_all(self.win, chunk, deadline)
                else:
                    _write_all(self.win, part, deadline)
            results[i] = self._collect(i, limits, sinks, drv["wall_s"] + grace + 0.5,
                                       outcome)
        self.current = None
        _write_all(self.win, encode_frame(b"E"), time.monotonic() + grace + 5)
        self._expect_done(time.monotonic() + grace + 5)

    def _expect_done(self, deadline: float) -> None:
        ev = self.reader.event(deadline)
        if ev["ev"] != "done":
            raise ChannelError(f"expected done, got {ev['ev']!r}")
        if self.warm:
            # The supervisor says "idle" once it has reaped the solution's namespace (every
            # process of it gone); that takes a while (the namespace's teardown) and only
            # the next job needs it, so it is read then (settle), not on this job's time.
            self.unsettled = True

    def settle(self) -> bool:
        """Before the next job: the previous solution is entirely gone (the supervisor's
        "idle") and left nothing in the cgroup.  False: this sandbox must not be reused."""
        if not self.unsettled:
            return not self.broken
        self.unsettled = False
        try:
            ev = self.reader.event(time.monotonic() + self.config.watchdog_grace_s + 5)
            if ev["ev"] != "idle":
                raise ChannelError(f"expected idle, got {ev['ev']!r}")
        except (SandboxDied, Watchdog, ChannelError) as e:
            log.warning("judge: sandbox not reusable: %s", e)
            self.broken = True
            return False
        if self.cg.active and self.leftovers():
            # (looked at again: the next driver may have been mid-clone)
            time.sleep(0.005)
            if self.leftovers():
                # Something of the solution outlived its namespace: never reuse this sandbox.
                self.broken = True
        return not self.broken

    def _collect(self, i: int, limits: Limits, sinks, allowed: float,
                 outcome: BatchOutcome) -> dict:
        """Test i's frames up to its result.  The driver may say "retry" once: what the
        test sent so far is dropped and it runs again in a fresh process (a later test of
        a reused process that did not end clean or was over its limit with the CPU of the
        earlier tests, see driver.Runner.run_zygote); the watchdog starts over with it."""
        out_cap, err_cap = int(limits.output_bytes), int(limits.stderr_bytes)
        func_cap, out_n = out_cap + 64, 0
        err, func, fetched = bytearray(), bytearray(), bytearray()
        sink = self.sink = sinks(i)
        deadline = time.monotonic() + allowed
        retried = False
        while True:
            kind, payload = self.reader.frame(deadline)
            if kind == b"O":
                out_n += len(payload)
                if out_n > out_cap:
                    raise ChannelError("more output than the cap")
                sink.feed(payload)
            elif kind == b"R":
                if len(err) + len(payload) > err_cap + CHUNK:
                    raise ChannelError("more stderr than the cap")
                err += payload
            elif kind == b"V":
                if len(func) + len(payload) > func_cap:
                    raise ChannelError("return value larger than the cap")
                func += payload
            elif kind == b"B":
                if len(fetched) + len(payload) > FETCH_MAX:
                    raise ChannelError("fetched file larger than the cap")
                fetched += payload
            else:
                msg = parse_event(payload)
                if msg["ev"] == "retry" and not retried and msg.get("i") == i:
                    retried = True
                    outcome.retries += 1
                    sink.close()
                    sink = self.sink = sinks(i)
                    out_n = 0
                    del err[:], func[:], fetched[:]
                    self.cg.reset()
                    self.test_started = time.monotonic()
                    deadline = self.test_started + allowed
                    continue
                if msg["ev"] != "result":
                    raise ChannelError(f"unexpected event {msg['ev']!r} during test {i}")
                why = validate_result(msg, i)
                if why:
                    raise ChannelError(why)
                if msg["out_bytes"] != out_n:
                    raise ChannelError("output size disagrees with the frames")
                raw = dict(msg)
                raw.update(sink.fields())
                raw["stderr"] = bytes(err[:err_cap]).decode("utf-8", "replace")
                if func:
                    raw["func"] = bytes(func).decode("utf-8", "replace")
                if fetched:
                    if msg.get("fetched") != len(fetched):
                        raise ChannelError("fetched size disagrees with the frames")
                    outcome.fetched = bytes(fetched)
                raw.update(self.cg.read())
                return raw

    def failure_result(self, exc: BaseException) -> dict:
        """The raw result of the test that was running when the sandbox failed."""
        wall = time.monotonic() - getattr(self, "test_started", time.monotonic())
        raw: dict = {"wall": round(wall, 4), "cpu": 0.0, "mem_kb": 0}
        raw.update(self.cg.read())
        sink = getattr(self, "sink", None)
        if sink is not None:
            try:
                raw.update(sink.fields())
            except Exception:  # noqa: BLE001 - a half-fed sink only loses its diagnostics
                pass
        if isinstance(exc, Watchdog):
            raw.update(timed_out=True, watchdog=True,
                       message="the sandbox stopped answering (host watchdog)")
        elif isinstance(exc, SandboxDied) and not exc.fatal:
            raw.update(driver_died=True, timed_out=False, stderr=self.stderr_tail()[-2000:])
        else:
            raw.update(system_error=f"{type(exc).__name__}: {exc}"[:1000])
        return raw

    # --- end ------------------------------------------------------------------------
    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and self.owner_pid == os.getpid():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        elif proc is not None:   # inherited through fork: not ours to kill
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            return
        if self.owner_pid != os.getpid():
            return
        self.cg.remove()
        self.lease.sweep()
        self.lease.release()
        if self.jobdir is not None:
            shutil.rmtree(self.jobdir, ignore_errors=True)
        try:
            os.unlink(self.stderr_path)
        except (OSError, AttributeError):
            pass


class _NoCgroup:
    kind = cgroups.NONE
    active = False

    def reset(self): pass
    def read(self): return {}
    def usage(self): return 0
    def procs(self): return []
    def remove(self): pass
    def set_limits(self, *a): pass


def _preexec():  # only setrlimit here: async-signal-safe enough
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass


# ----------------------------------------------------------------------------------
# the pool
# ----------------------------------------------------------------------------------
_pool: dict[SandboxConfig, list[Sandbox]] = {}
_pool_lock = threading.Lock()
_pool_pid = os.getpid()


def _check_fork() -> None:
    global _pool_pid
    if _pool_pid != os.getpid():
        stale = [sb for lst in _pool.values() for sb in lst]
        _pool.clear()
        _pool_pid = os.getpid()
        for sb in stale:
            sb.close()     # closes our copies of its pipes; the parent keeps its sandbox


def acquire(config: SandboxConfig, isolation: str) -> Sandbox:
    """A ready sandbox: an idle warm one, or a new one."""
    if isolation == ISOLATION_BWRAP and config.warm_pool:
        with _pool_lock:
            _check_fork()
            idle = _pool.get(config, [])
            while idle:
                sb = idle.pop()
                if sb.alive() and sb.settle():
                    return sb
                sb.close()
    return Sandbox(config, isolation)


def release(sb: Sandbox) -> None:
    if sb.warm and sb.config.warm_pool and sb.alive():
        with _pool_lock:
            _check_fork()
            idle = _pool.setdefault(sb.config, [])
            if len(idle) < sb.config.pool_size and sb.owner_pid == os.getpid():
                idle.append(sb)
                return
    sb.close()


def prewarm(config: SandboxConfig | None = None, n: int = 1) -> int:
    """Start ``n`` sandboxes ahead of use (e.g. when an RL reward worker starts)."""
    config = config or SandboxConfig()
    if resolve_isolation(config) != ISOLATION_BWRAP or not config.warm_pool:
        return 0
    started = [Sandbox(config, ISOLATION_BWRAP) for _ in range(n)]
    for sb in started:
        release(sb)
    return len(started)


def shutdown_pool() -> None:
    """Close every idle sandbox of this process (atexit; tests that need a cold start)."""
    with _pool_lock:
        _check_fork()
        stale = [sb for lst in _pool.values() for sb in lst]
        _pool.clear()
    for sb in stale:
        sb.close()


atexit.register(shutdown_pool)


def pool_size(config: SandboxConfig | None = None) -> int:
    with _pool_lock:
        if config is None:
            return sum(len(v) for v in _pool.values())
        return len(_pool.get(config, []))


# ----------------------------------------------------------------------------------
# batch execution
# ----------------------------------------------------------------------------------
def run_batch(*, kind: str, mode: str = "stdin", box_files: dict[str, bytes],
              source: str | None = None, argv: list[str] | None = None,
              entry: str | None = None, prelude: str | None = None,
              tests: list[BatchTest], limits: Limits, config: SandboxConfig,
              fetch: str | None = None, sinks=None) -> BatchOutcome:
    """Run ``tests`` of one solution in a warm sandbox (a fresh one continues the rest if a
    sandbox fails, at most MAX_RESTARTS times; then the rest are SE).

    kind="python": ``source`` (a name in box_files) is compiled once and run in a forked
    child per test (functional mode: loaded once, one clone per test).  kind="exec":
    ``argv`` (``{box}``, ``{tmp}``, ``{out}``, ``{test}`` substituted inside) is exec'd per
    test.  ``fetch`` names a file the test leaves in ``{out}``, returned in ``fetched``.
    ``sinks(i)`` gives the output sink of test i (default: the whole output, see outputs.py).
    """
    from .outputs import Collector
    isolation = resolve_isolation(config)
    if isolation == ISOLATION_RLIMITS:
        log.warning("judge: running untrusted code WITHOUT bubblewrap (rlimits-only)")
    sinks = sinks or (lambda i: Collector())
    t0 = time.monotonic()
    results: dict[int, dict] = {}
    outcome = BatchOutcome(results=[], isolation=isolation)
    job = {"kind": kind, "mode": mode, "source": source, "argv": argv, "entry": entry,
           "prelude": prelude, "fetch": fetch, "fetch_max": FETCH_MAX,
           "reuse": bool(config.reuse_process),
           "env": _child_env("/tmp" if isolation == ISOLATION_BWRAP else "")}
    pending = list(range(len(tests)))
    failures = 0
    while pending:
        sb = None
        try:
            sb = acquire(config, isolation)
            if isolation == ISOLATION_RLIMITS:
                job["env"] = _child_env(json.loads(sb.proc.args[-1])["tmp"])
            outcome.sandboxes += 1
            outcome.limits = sb.cg.kind
            outcome.seccomp = sb.seccomp
            sb.run_job(job, box_files, tests, pending, limits, sinks, results, outcome)
            release(sb)
            sb = None
            break
        except (SandboxDied, Watchdog, ChannelError, UnsafeDirectory, OSError,
                RuntimeError) as exc:
            failures += 1
            current = getattr(sb, "current", None) if sb is not None else None
            note = f"sandbox failed: {type(exc).__name__}: {exc}"[:1000]
            outcome.notes.append(note)
            if current is not None:
                results[current] = sb.failure_result(exc)
            if sb is not None:
                sb.close()
            pending = [i for i in pending if i not in results]
            if current is None or failures > MAX_RESTARTS:
                for i in pending:
                    results[i] = {"system_error": note}
                break
    outcome.results = [results.get(i, {"system_error": "not run"}) for i in range(len(tests))]
    outcome.elapsed = time.monotonic() - t0
    return outcome


# ----------------------------------------------------------------------------------
# leftovers (tests, health checks)
# ----------------------------------------------------------------------------------
def stray_processes(config: SandboxConfig | None = None) -> list[tuple[int, int, bytes]]:
    """Processes under a sandbox uid that no live judge holds (root), plus processes of this
    process's idle sandboxes other than their bwrap and supervisor.  Correct with other
    judges running beside: a uid whose lease is held belongs to someone's live sandbox."""
    config = config or SandboxConfig()
    found = []
    if os.getuid() == 0:
        lo, hi = config.uid_range
        by_uid: dict[int, list] = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                uid = os.stat(f"/proc/{pid}").st_uid
                if lo <= uid <= hi:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read()[:200]
                    with open(f"/proc/{pid}/stat") as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                    # zombies and processes already tearing down (their memory and
                    # command line gone) are dead already; only the living count
                    if cmd and state not in ("Z", "X"):
                        by_uid.setdefault(uid, []).append((int(pid), uid, cmd))
            except (OSError, IndexError):
                continue
        lockdir = _lock_dir(config)
        for uid, procs in by_uid.items():
            fd = os.open(lockdir / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue            # a live sandbox holds this uid
            finally:
                os.close(fd)        # (closing drops the lock we may have taken)
            found += procs
    with _pool_lock:
        _check_fork()
        unusable = []
        for lst in _pool.values():
            for sb in list(lst):
                if not sb.settle():          # (waits for the last solution's teardown)
                    lst.remove(sb)
                    unusable.append(sb)
        idle = [sb for lst in _pool.values() for sb in lst]
    for sb in unusable:
        sb.close()              # as release() would have: its stragglers die with it
    for sb in idle:
        if sb.cg.active:
            extra = sb.leftovers()
            found += [(p, -1, b"in an idle sandbox's cgroup") for p in extra]
    return found
