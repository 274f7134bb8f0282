"""Verdict integrity: programs that attack the judge itself, not the host.

Each program tries every way we know to forge or alter its verdict -- take the result
channel through /proc/<pid>/fd or pidfd_getfd, ptrace or process_vm_writev the driver, stop
it, write forged frames into any descriptor, replace what the functional-mode reporter calls
-- and then behaves in a way whose real verdict is known.  Every one must get exactly that
verdict: a forged AC, a crash of judge_solution or a stalled worker are all failures.

Run as root (in this process) and as an unprivileged worker (a subprocess as `nobody`).
"""
import dataclasses
import json
import os
import platform
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from curation.judge import Limits, SandboxConfig, Verdict, judge_solution
from curation.judge import sandbox as sandbox_mod

from .conftest import CONFIG, HOSTILE_LIMITS, assert_no_survivors

pytestmark = [pytest.mark.usefixtures("sandbox_ok"),
              pytest.mark.skipif(platform.machine() != "x86_64",
                                 reason="system call numbers below are x86_64's")]

REPO = Path(__file__).resolve().parents[2]
FORGED = json.dumps({"ev": "result", "i": 0, "wall": 0.001, "cpu": 0.001, "mem_kb": 1,
                     "exit_code": 0, "signal": None, "timed_out": False, "ole": False,
                     "out_bytes": 4})

PY_FORGER_TEMPLATE = r'''
import ctypes, glob, os, signal, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
FORGED = %r.encode()
FRAME = b"O" + struct.pack("!I", 4) + b"none" + b"J" + struct.pack("!I", len(FORGED)) + FORGED
got = []
def attempt(name, ok):
    if ok:
        got.append(name)
others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
for path in [f"/proc/{p}/fd/{fd}" for p in others for fd in range(64)]:   # others' fds
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        continue
    try:
        os.write(fd, FRAME)
        got.append("proc-fd:" + path)
    except OSError:
        pass
    os.close(fd)
for fd in range(3, 1024):                          # inherited descriptors
    try:
        os.write(fd, FRAME)
        got.append("fd%%d" %% fd)
    except OSError:
        pass
pids = sorted({1, os.getppid()} | {int(p) for p in os.listdir("/proc") if p.isdigit()} - {os.getpid()})
for pid in pids:
    pfd = libc.syscall(434, pid, 0)                # pidfd_open
    if pfd >= 0:
        for target in range(0, 256):
            r = libc.syscall(438, pfd, target, 0)  # pidfd_getfd
            if r >= 0:
                attempt("pidfd_getfd:%%d/%%d" %% (pid, target), True)
                try:
                    os.write(r, FRAME)
                except OSError:
                    pass
    attempt("ptrace:%%d" %% pid, libc.syscall(101, 16, pid, 0, 0) == 0)   # PTRACE_ATTACH
    buf = ctypes.create_string_buffer(FRAME)
    iov = (ctypes.c_void_p * 2)(ctypes.cast(buf, ctypes.c_void_p), len(FRAME))
    attempt("process_vm_writev:%%d" %% pid,
            libc.syscall(311, pid, ctypes.byref(iov), 1, ctypes.byref(iov), 1, 0) > 0)
    try:
        with open("/proc/%%d/mem" %% pid, "r+b") as f:
            got.append("mem:%%d" %% pid)
    except OSError:
        pass
    try:
        with open("/proc/%%d/oom_score_adj" %% pid, "w") as f:
            f.write("1000")
        if pid == 1:
            got.append("oom_score_adj:1")
    except OSError:
        pass
for pid in (1, os.getppid()):
    try:
        os.kill(pid, signal.SIGSTOP)
    except OSError:
        pass
attempt("io_uring", libc.syscall(425, 8, ctypes.create_string_buffer(120)) >= 0)
attempt("bpf", libc.syscall(321, 0, ctypes.create_string_buffer(128), 128) >= 0)
attempt("keyctl", libc.syscall(250, 0, 0, 0, 0, 0) >= 0)
attempt("userns", libc.unshare(0x10000000) == 0)
attempt("mount", libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None) == 0)
# With reuse_process the program runs in the judge's runner, which holds its own socket to
# J (fd 3): the frames just written there must change nothing.
got = [g for g in got if g not in %r]
print(" ".join(got) or "none", flush=True)
time.sleep(float(sys.stdin.read() or 0))
'''


def py_forger(reuse_process: bool) -> str:
    return PY_FORGER_TEMPLATE % (FORGED, ("fd3",) if reuse_process else ())


PY_FORGER = py_forger(CONFIG.reuse_process)

CPP_FORGER = r'''
#include <bits/stdc++.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
int main() {
    std::vector<std::string> got;
    const char frame[] = "J\0\0\0\2{}";
    DIR* d = opendir("/proc");
    std::vector<int> pids = {1, getppid()};
    while (d) { dirent* e = readdir(d); if (!e) break;
        if (isdigit(e->d_name[0]) && atoi(e->d_name) != getpid()) pids.push_back(atoi(e->d_name)); }
    if (d) closedir(d);
    for (int fd = 3; fd < 1024; fd++) if (write(fd, frame, 7) > 0) got.push_back("fd" + std::to_string(fd));
    for (int pid : pids) {
        for (int t = 0; t < 256; t++) {
            std::string p = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(t);
            int fd = open(p.c_str(), O_WRONLY | O_NONBLOCK);
            if (fd >= 0) { char real[512] = {0}; readlink(p.c_str(), real, 511);
                if (strncmp(real, "/dev/", 5) && strncmp(real, "/tmp/", 5)) got.push_back("proc-fd:" + p);
                close(fd); }
        }
        long pfd = syscall(434, pid, 0);
        if (pfd >= 0) for (int t = 0; t < 256; t++) if (syscall(438, pfd, t, 0) >= 0) got.push_back("pidfd_getfd");
        if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) got.push_back("ptrace:" + std::to_string(pid));
        char buf[8] = "forged"; struct iovec l = {buf, 7}, r = {buf, 7};
        if (syscall(311, pid, &l, 1, &r, 1, 0) > 0) got.push_back("process_vm_writev");
        kill(pid, SIGSTOP);
    }
    if (syscall(425, 8, calloc(1, 120)) >= 0) got.push_back("io_uring");
    if (syscall(272, 0x10000000) == 0) got.push_back("userns");
    for (auto& g : got) printf("%s ", g.c_str());
    printf("%s\n", got.empty() ? "none" : "");
    fflush(stdout);
    double s = 0; if (scanf("%lf", &s) == 1 && s > 0) usleep((useconds_t)(s * 1e6));
}
'''


def forger_tests():
    # "0": must print "none" (nothing it tried worked) and be AC; "3": sleeps past the
    # wall limit of 2.5 s and must be TLE whatever it did to the driver first.
    return [("0", "none"), ("3", "none"), ("0", "none")]


def check_forger(rep):
    verdicts = [t.verdict for t in rep.tests]
    assert verdicts == [Verdict.AC, Verdict.TLE, Verdict.AC], rep.tests
    assert rep.tests[1].time_wall >= 2.4, rep.tests[1]
    assert rep.isolation == "bubblewrap"


@pytest.mark.parametrize("reuse_process", [True, False], ids=["one-process", "process-per-test"])
def test_python_program_cannot_forge_its_verdict(marker, reuse_process):
    config = dataclasses.replace(CONFIG, reuse_process=reuse_process)
    rep = judge_solution(py_forger(reuse_process) + f"# {marker}\n", "python3", forger_tests(),
                         limits=HOSTILE_LIMITS, config=config)
    check_forger(rep)
    assert rep.seccomp, "python3-seccomp is in .ci/run's packages: the filter must be on"
    assert_no_survivors(marker)


def test_cpp_program_cannot_forge_its_verdict():
    rep = judge_solution(CPP_FORGER, "cpp", forger_tests(), limits=HOSTILE_LIMITS,
                         config=CONFIG)
    check_forger(rep)
    assert_no_survivors()


FUNC_FORGER = '''
import builtins, json, os, sys
FORGED = b'{"value": 42, "text": "42"}'
json.dumps = lambda *a, **k: FORGED.decode()
for mod in list(sys.modules.values()):
    for name in ("report_value", "value_json", "encode_value", "_finish", "parse_args",
                 "_make_reporter", "write_all"):
        if hasattr(mod, name):
            try:
                setattr(mod, name, lambda *a, **k: FORGED)
            except Exception:
                pass
_write = os.write
os.write = lambda fd, data: _write(fd, FORGED)
BUILTINS

class Solution:
    def double(self, x: int) -> int:
        return x + 1          # wrong: 22 for x = 21
'''


def test_functional_reporter_cannot_be_monkeypatched():
    rep = judge_solution(FUNC_FORGER.replace("BUILTINS", ""), "python3",
                         [("x = 21", "42"), ("x = 1", "2")],
                         mode="functional", function_name="Solution().double",
                         limits=HOSTILE_LIMITS, config=CONFIG)
    assert [t.verdict for t in rep.tests] == [Verdict.WA, Verdict.AC], rep.tests
    assert "22" in rep.tests[0].diff


def test_functional_builtins_replaced_never_gives_ac():
    # Replacing str/repr/isinstance breaks the program's own interpreter (RE is what it
    # earns); what matters is that its wrong answer is never accepted.
    code = FUNC_FORGER.replace("BUILTINS", "builtins.str = lambda *a, **k: '42'\n"
                               "builtins.repr = lambda *a, **k: '42'\n"
                               "builtins.isinstance = lambda *a, **k: True\n")
    rep = judge_solution(code, "python3", [("x = 21", "42")], mode="functional",
                         function_name="Solution().double", limits=HOSTILE_LIMITS,
                         config=CONFIG)
    assert rep.verdict in (Verdict.WA, Verdict.RE), rep.tests


@pytest.mark.parametrize("attack,verdict", [
    ("os.write(3, b'\\xff\\xfe not json')", Verdict.RE),
    ("os.write(3, b'[1, 2]')", Verdict.RE),                       # not an object
    ("os.write(3, b'{\"value\": {\"$float\": \"abc\"}}')", Verdict.WA),
    ("os.write(3, b'{\"text\": 7}')", Verdict.RE),
    ("os.write(3, b'[' * 100000)", Verdict.RE),                   # nesting bomb
    ("os.write(3, b'{\"value\": 1' + b'0' * 5000 + b'}')", Verdict.RE),   # > int digits limit
    ("os.write(3, b'x' * (2 << 20))", Verdict.RE),                # past the value cap
])
def test_malformed_return_values_are_the_programs_verdict(attack, verdict):
    code = f"import os\nclass Solution:\n    def f(self, x):\n        {attack}\n        os._exit(0)\n"
    rep = judge_solution(code, "python3", [("x = 1", "1")], mode="functional",
                         function_name="Solution().f", limits=HOSTILE_LIMITS, config=CONFIG)
    assert rep.verdict == verdict, rep.tests


def test_cpu_spread_over_processes_is_counted():
    # Four processes of 0.6 s CPU each: every one is under the 1 s limit, the solution is not.
    rep = judge_solution(textwrap.dedent("""
        import os, time
        def burn(s):
            t = time.process_time()
            while time.process_time() - t < s:
                pass
        kids = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                burn(0.6); os._exit(0)
            kids.append(pid)
        for pid in kids:
            os.waitpid(pid, 0)
        print("done")
        """), "python3", [("", "done")], limits=Limits(time_s=1.0, wall_s=30, memory_mb=256),
        config=CONFIG)
    assert rep.verdict == Verdict.TLE, rep.tests
    assert rep.tests[0].time_cpu >= 2.0


def test_memory_spread_over_processes_is_limited():
    rep = judge_solution(textwrap.dedent("""
        import os, time
        kids = []
        for _ in range(6):
            pid = os.fork()
            if pid == 0:
                b = bytearray(150 << 20)           # each under the 256 MB limit
                for i in range(0, len(b), 4096):
                    b[i] = 1
                time.sleep(5); os._exit(0)
            kids.append(pid)
        for pid in kids:
            os.waitpid(pid, 0)
        print("done")
        """), "python3", [("", "done")], limits=Limits(time_s=3, wall_s=8, memory_mb=256),
        config=CONFIG)
    if rep.resource_limits == "rlimits-only":
        pytest.skip("no usable cgroup here: memory is limited per process only")
    assert rep.verdict == Verdict.MLE, rep.tests


def test_dev_is_read_only_and_shm_private():
    code = textwrap.dedent("""
        import os
        res = []
        for p in ("/dev/evil", "/dev/shm/../evil"):
            try:
                open(p, "w").write("x"); res.append("WROTE")
            except OSError:
                res.append("denied")
        res.append("seen" if os.path.exists("/dev/shm/mark") else "fresh")
        open("/dev/shm/mark", "w").write("x")
        res.append(str(os.statvfs("/dev/shm").f_blocks * os.statvfs("/dev/shm").f_frsize <= 64 << 20))
        print(*res)
        """)
    rep = judge_solution(code, "python3", [("", "denied denied fresh True")] * 2,
                         limits=HOSTILE_LIMITS, config=CONFIG)
    assert rep.verdict == Verdict.AC, rep.tests


def test_state_does_not_reach_the_next_solution():
    writer = "open('/tmp/left', 'w').write('x'); open('/dev/shm/left', 'w').write('x'); print('ok')"
    reader = ("import os\nprint(os.path.exists('/tmp/left') or os.path.exists('/dev/shm/left'))")
    assert judge_solution(writer, "python3", [("", "ok")], config=CONFIG).verdict == Verdict.AC
    assert judge_solution(reader, "python3", [("", "False")], config=CONFIG).verdict == Verdict.AC


# ----------------------------------------------------------------------------------
# the host side: the channel and the watchdog
# ----------------------------------------------------------------------------------
BAD_DRIVER = r'''
import json, os, struct, sys
os.dup2(0, 201); os.dup2(1, 200)
def send(kind, payload):
    os.write(200, kind + struct.pack("!I", len(payload)) + payload)
def frame():
    head = b""
    while len(head) < 5:
        head += os.read(201, 5 - len(head))
    kind, n = struct.unpack("!cI", head)
    data = b""
    while len(data) < n:
        data += os.read(201, n - len(data))
    return kind, data
send(b"J", b'{"ev": "hello"}')
kind, go = frame()          # G: the host has moved us into the cgroup
assert kind == b"G", kind
kind, job = frame()
while True:
    kind, data = frame()
    if kind == b"G":
        break
    n = json.loads(data)["len"]
    while n:
        n -= len(os.read(201, n))
send(b"J", b'{"ev": "ready"}')
while True:
    kind, data = frame()
    if kind != b"T":
        break
    head = json.loads(data)
    os.read(201, head.get("stdin_len", 0) or 0) if head.get("stdin_len") else None
    MODE
'''

BAD_REPLIES = {
    "not json": 'send(b"J", b"{{{")',
    "wrong index": 'send(b"J", json.dumps({"ev": "result", "i": 99, "wall": 0, "cpu": 0, "mem_kb": 0, "exit_code": 0, "signal": None, "timed_out": False, "ole": False, "out_bytes": 0}).encode())',
    "wrong type": 'send(b"J", json.dumps({"ev": "result", "i": head["i"], "wall": "x", "cpu": 0, "mem_kb": 0, "exit_code": 0, "signal": None, "timed_out": False, "ole": False, "out_bytes": 0}).encode())',
    "huge frame": 'os.write(200, b"O" + struct.pack("!I", 1 << 30))',
    "unknown frame": 'send(b"Z", b"")',
    "list event": 'send(b"J", b"[1, 2]")',
    "missing fields": 'send(b"J", json.dumps({"ev": "result", "i": head["i"]}).encode())',
    "more output than the cap": 'send(b"O", b"x" * 60000); send(b"O", b"x" * 60000)',
}


def _bad_driver(tmp_path, monkeypatch, body):
    path = tmp_path / "driver.py"
    path.write_text(BAD_DRIVER.replace("MODE", body))
    monkeypatch.setattr(sandbox_mod, "DRIVER_SOURCE_PATH", path)
    return SandboxConfig(warm_pool=False, watchdog_grace_s=0.5)


@pytest.mark.parametrize("name", sorted(BAD_REPLIES))
def test_host_validates_every_message(tmp_path, monkeypatch, name):
    config = _bad_driver(tmp_path, monkeypatch, BAD_REPLIES[name])
    rep = judge_solution("print(1)", "python3", [("", "1"), ("", "1")],
                         limits=Limits(time_s=1, wall_s=1, output_bytes=64 << 10), config=config)
    assert [t.verdict for t in rep.tests] == [Verdict.SE, Verdict.SE], rep.tests
    assert all("ChannelError" in t.diff for t in rep.tests), rep.tests


def test_watchdog_ends_a_stalled_sandbox_without_rerunning_forever(tmp_path, monkeypatch):
    config = _bad_driver(tmp_path, monkeypatch, "import time; time.sleep(3600)")
    t0 = time.monotonic()
    rep = judge_solution("print(1)", "python3", [("", "1")] * 8,
                         limits=Limits(time_s=1, wall_s=1), config=config)
    took = time.monotonic() - t0
    verdicts = [t.verdict for t in rep.tests]
    # each stalled sandbox costs one test (TLE) and wall + grace; after MAX_RESTARTS the
    # rest are SE: bounded, never test after test after test.
    n = sandbox_mod.MAX_RESTARTS + 1
    assert verdicts == [Verdict.TLE] * n + [Verdict.SE] * (8 - n), rep.tests
    assert took < n * (1 + 0.5 + 0.5) + 20


def test_stopped_sandbox_is_tle_for_that_test_only(monkeypatch):
    """SIGSTOP the whole sandbox while a test runs: that test is TLE after its wall limit
    plus the grace, the rest pass in a fresh sandbox."""
    config = SandboxConfig(watchdog_grace_s=1.0)
    original = sandbox_mod.Sandbox._collect
    stopped = []

    def collect(self, i, *a, **kw):
        if not stopped:
            stopped.append(i)
            pids = [p for p in self.cg.procs()] or [self._supervisor_pid()]
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
        return original(self, i, *a, **kw)

    monkeypatch.setattr(sandbox_mod.Sandbox, "_collect", collect)
    t0 = time.monotonic()
    rep = judge_solution("print(input())", "python3", [(str(k), str(k)) for k in range(4)],
                         limits=Limits(time_s=1, wall_s=1.5), config=config)
    assert [t.verdict for t in rep.tests] == [Verdict.TLE] + [Verdict.AC] * 3, rep.tests
    assert time.monotonic() - t0 < 1.5 + 1.0 + 20
    assert_no_survivors()


# ----------------------------------------------------------------------------------
# the same attacks from an unprivileged worker
# ----------------------------------------------------------------------------------
UNPRIVILEGED = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from curation.judge import Limits, judge_solution
from tests.judge.test_integrity import CPP_FORGER, PY_FORGER, forger_tests
lim = Limits(time_s=1.0, wall_s=2.5, memory_mb=256, output_bytes=1 << 20, processes=16)
out = {}
for lang, code in (("python3", PY_FORGER), ("cpp", CPP_FORGER)):
    rep = judge_solution(code, lang, forger_tests(), limits=lim)
    out[lang] = {"verdicts": [t.verdict.value for t in rep.tests], "isolation": rep.isolation,
                 "limits": rep.resource_limits, "diffs": [t.diff for t in rep.tests]}
print(json.dumps(out))
'''


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to become an unprivileged worker")
def test_unprivileged_worker_cannot_be_forged():
    import shutil
    import tempfile
    work = Path(tempfile.mkdtemp(prefix="mc-unpriv-"))   # pytest's tmp_path is root-only
    try:
        os.chmod(work, 0o755)
        script = work / "worker.py"
        script.write_text(UNPRIVILEGED)
        os.chmod(script, 0o644)
        os.chown(work, 65534, 65534)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work)}
        p = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534",
                            "--clear-groups", sys.executable, str(script), str(REPO)],
                           capture_output=True, text=True, timeout=600, env=env, cwd=str(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    for lang in ("python3", "cpp"):
        assert out[lang]["isolation"] == "bubblewrap", out
        assert out[lang]["verdicts"] == ["AC", "TLE", "AC"], out
