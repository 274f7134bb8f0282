"""stdin-mode Python with ``SandboxConfig.reuse_process``: the tests of a solution run one
after another in one process (driver.py, ``_runner``) while each ends clean.  What a test
does to that process must never change a later test's verdict, and anything unusual gives
the next test a fresh process."""
import dataclasses
import textwrap

import pytest

from curation.judge import Limits, Verdict, judge_solution

from .conftest import CONFIG, HOSTILE_LIMITS, assert_no_survivors

pytestmark = pytest.mark.usefixtures("sandbox_ok")

ON = dataclasses.replace(CONFIG, reuse_process=True)
OFF = dataclasses.replace(CONFIG, reuse_process=False)
N = 6
# every program below writes its pid to stderr first: equal pids = one process reused
PID = "import os, sys\nsys.stderr.write('pid=%d\\n' % os.getpid()); sys.stderr.flush()\n"


def judge(code, tests, config=ON, limits=HOSTILE_LIMITS):
    return judge_solution(PID + textwrap.dedent(code), "python3", tests, limits=limits,
                          config=config)


def pids(rep):
    out = []
    for t in rep.tests:
        line = next((x for x in t.stderr.splitlines() if x.startswith("pid=")), None)
        out.append(int(line[4:]) if line else None)
    return out


def aplusb(n=N):
    return [(f"{k} {k + 1}\n", f"{2 * k + 1}\n") for k in range(n)]


def test_one_process_runs_every_clean_test_in_a_fresh_namespace():
    code = """
        calls = globals().get("calls", 0) + 1       # a fresh __main__: always 1
        a, b = map(int, input().split())
        print(a + b if calls == 1 else -1)
    """
    rep = judge(code, aplusb())
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * N
    assert len(set(pids(rep))) == 1
    off = judge(code, aplusb(), config=OFF)
    assert [t.verdict for t in off.tests] == [Verdict.AC] * N
    assert len(set(pids(off))) == N          # one process per test without the switch


@pytest.mark.parametrize("tail", [
    "import builtins; builtins.input = lambda *a: '0 0'",
    "import builtins; builtins.print = lambda *a, **k: None",
    "import heapq; heapq.heappush = None",
    "import threading, time; threading.Thread(target=time.sleep, args=(30,), daemon=True).start()",
    "import signal; signal.alarm(100)",
    "import signal; signal.signal(signal.SIGTERM, lambda *a: None)",
    "import os; os.environ['X'] = '1'",
    "import os; os.dup(1)",
    "import atexit; atexit.register(lambda: None)",
    "import sys; sys.settrace(lambda *a: None)",
    "import os; os.chdir('/tmp')",
    "import sys; sys.excepthook = None",
    "import os; os.fork() or os._exit(0)",
])
def test_a_test_that_changes_the_process_gets_a_fresh_one_next(tail):
    """Each program answers, then changes the interpreter in a way that would break (or
    leak into) the next test: every test is still AC and none shares a process."""
    code = "a, b = map(int, input().split())\nprint(a + b)\nsys.stdout.flush()\n" + tail + "\n"
    rep = judge(code, aplusb())
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * N, [t.diff for t in rep.tests]
    got = pids(rep)
    assert None not in got and len(set(got)) == N, got
    assert_no_survivors()


@pytest.mark.parametrize("tail", [
    "sys.setrecursionlimit(10 ** 6)",
    "import gc; gc.disable()",
    "sys.set_int_max_str_digits(0)",
    "sys.stdout = open(os.devnull, 'w')",
    "sys.argv.append('x'); sys.path.append('/nowhere')",
])
def test_state_put_back_keeps_the_process(tail):
    code = """
        import gc
        assert sys.getrecursionlimit() < 10 ** 5 and gc.isenabled()
        assert sys.get_int_max_str_digits() != 0
        assert sys.argv == ["/box/main.py"] or len(sys.argv) == 1, sys.argv
        assert "/nowhere" not in sys.path
        a, b = map(int, input().split())
        print(a + b)
        sys.stdout.flush()
    """
    code = textwrap.dedent(code) + tail + "\n"
    rep = judge(code, aplusb())
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * N, [t.stderr for t in rep.tests]
    assert len(set(pids(rep))) == 1


def test_exits_and_errors_keep_their_verdicts():
    code = """
        import os
        a, b = map(int, input().split())
        if a == 1:
            print(a + b); sys.stdout.flush(); os._exit(0)
        if a == 2:
            raise ValueError("boom")
        if a == 3:
            sys.exit(4)
        if a == 4:
            print(a + b + 1)
        else:
            print(a + b)
            sys.exit(0)
    """
    verdicts = {}
    for config in (ON, OFF):
        rep = judge(code, aplusb(), config=config)
        verdicts[config.reuse_process] = [(t.verdict, t.exit_code) for t in rep.tests]
    assert verdicts[True] == verdicts[False]
    assert [v for v, _ in verdicts[True]] == [Verdict.AC, Verdict.AC, Verdict.RE, Verdict.RE,
                                              Verdict.WA, Verdict.AC]


def test_cpu_and_memory_are_per_test():
    """Test 1 burns ~0.3 s of CPU and test 3 touches ~80 MB: the figures of the tests after
    them are their own (the runner's CPU is a delta; an earlier test's peak is never
    reported), and one process runs them all (80 MB is under a quarter of the limit)."""
    code = """
        import time
        a, b = map(int, input().split())
        if a == 1:
            t = time.process_time()
            while time.process_time() - t < 0.3:
                pass
        if a == 3:
            x = bytearray(80 << 20)
            for i in range(0, len(x), 4096):
                x[i] = 1
            del x
        print(a + b)
    """
    limits = dataclasses.replace(HOSTILE_LIMITS, memory_mb=512)
    rep = judge(code, aplusb(), limits=limits)
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * N
    cpu = [t.time_cpu for t in rep.tests]
    mem = [t.memory_kb for t in rep.tests]
    assert cpu[1] >= 0.25 and cpu[2] < 0.15 and cpu[0] < 0.15, cpu
    assert mem[3] >= 80 * 1024 and mem[4] < 60 * 1024 and mem[2] < 60 * 1024, mem
    assert len(set(pids(rep))) == 1
    # past a quarter of the limit the runner is retired: the next test gets a fresh one
    big = judge(code.replace("80 << 20", "150 << 20"), aplusb(), limits=limits)
    assert [t.verdict for t in big.tests] == [Verdict.AC] * N
    got = pids(big)
    assert big.tests[3].memory_kb >= 150 * 1024 and big.tests[4].memory_kb < 60 * 1024
    assert got[0] == got[3] and got[3] != got[4], got


def test_time_limit_still_kills_the_runner():
    code = """
        a, b = map(int, input().split())
        if a == 2:
            while True:
                pass
        if a == 4:
            import time
            time.sleep(30)
        print(a + b)
    """
    limits = Limits(time_s=0.5, wall_s=1.5, memory_mb=256)
    rep = judge(code, aplusb(), limits=limits)
    assert [t.verdict for t in rep.tests] == [Verdict.AC, Verdict.AC, Verdict.TLE, Verdict.AC,
                                              Verdict.TLE, Verdict.AC]
    assert rep.tests[2].time_cpu >= 0.4
    got = pids(rep)
    assert got[0] == got[1] and got[2] != got[3] and got[4] != got[5], got
    assert_no_survivors()


def test_a_forged_end_of_test_message_buys_nothing():
    """The program sends R's "done" message to J itself and keeps running: its test ends
    with what it printed so far, the process is not trusted again (its next test runs it
    through to the wall limit or a fresh process), every verdict is what the output earns."""
    code = """
        import socket, struct, time
        a, b = map(int, input().split())
        if a == 1:
            sys.stdout.flush()
            socket.socket(fileno=3).send(struct.pack("!cq", b"D", 0))
            time.sleep(0.3)
            print(a + b)
        else:
            print(a + b)
    """
    rep = judge(code, aplusb())
    v = [t.verdict for t in rep.tests]
    assert v[0] == Verdict.AC and v[1] != Verdict.AC, v    # test 1 ended before its answer
    assert all(x == Verdict.AC for x in v[3:]), v           # (test 2 may pay for it)
    assert_no_survivors()


def test_the_switch_is_on_by_default_and_the_environment_turns_it_off(monkeypatch):
    from curation.judge import SandboxConfig
    monkeypatch.delenv("MICROCODER_JUDGE_REUSE_PROCESS", raising=False)
    assert SandboxConfig().reuse_process is True
    monkeypatch.setenv("MICROCODER_JUDGE_REUSE_PROCESS", "0")
    assert SandboxConfig().reuse_process is False
    monkeypatch.setenv("MICROCODER_JUDGE_REUSE_PROCESS", "1")
    assert SandboxConfig().reuse_process is True
    assert SandboxConfig(reuse_process=False).reuse_process is False


# A precomputation of 3 x 0.4 s of CPU (limit 1 s) kept in a class attribute of a stdlib
# module, one chunk per test: without the CPU of earlier tests charged, tests 3 and later
# of one process would find it done and pass in no time.
SPREAD = """
    import collections, time
    done = getattr(collections.Counter, "_chunks", 0)
    if done < 3:
        t = time.process_time()
        while time.process_time() - t < 0.4:
            pass
        collections.Counter._chunks = done = done + 1
    print("ok" if done >= 3 else "building")
"""


def test_work_carried_across_tests_is_charged_and_never_passes():
    """The spread precomputation gets the verdicts of one process per test (WA on every
    test: a fresh process never finds it done): the test where it would be complete has
    1.2 s of earlier tests charged, so it runs again in a fresh process."""
    tests = [("", "ok")] * 5
    limits = Limits(time_s=1.0, wall_s=3, memory_mb=256)
    on = judge(SPREAD, tests, limits=limits)
    off = judge(SPREAD, tests, config=OFF, limits=limits)
    assert [t.verdict for t in off.tests] == [Verdict.WA] * 5
    assert [t.verdict for t in on.tests] == [Verdict.WA] * 5, [
        (t.verdict, t.time_cpu, t.carried_cpu) for t in on.tests]
    assert all(t.carried_cpu + t.time_cpu <= 1.0 for t in on.tests)
    assert on.tests[1].carried_cpu >= 0.35          # test 1 ran after test 0, charged
    got = pids(on)
    assert len(set(got)) >= 2, got                   # and a fresh process came in


def test_carried_cpu_over_the_limit_runs_the_test_again_fresh():
    """Honest tests of 0.35 s each (limit 1 s): the judge predicts that a third one in the
    same process would pass the limit with the CPU of the first two and starts a fresh
    process; nothing is TLE and the charged CPU of each test is within the limit."""
    code = """
        import time
        t = time.process_time()
        while time.process_time() - t < 0.35:
            pass
        a, b = map(int, input().split())
        print(a + b)
    """
    rep = judge(code, aplusb(5), limits=Limits(time_s=1.0, wall_s=3, memory_mb=256))
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * 5
    assert all(t.carried_cpu + t.time_cpu <= 1.0 for t in rep.tests)
    got = pids(rep)
    assert got[0] == got[1] and got[1] != got[2], got


def test_a_later_test_that_fails_in_the_reused_process_is_judged_by_a_fresh_one():
    """Test 1 finds what test 0 left in a stdlib class attribute, prints garbage and
    raises: a fresh process would print the right answer, and that is the verdict (what
    the failed run printed is dropped).  Test 3 passes only with the CPU of the tests
    before it not counted (0.4 + 0.7 s, limit 1 s): it runs again fresh, and is AC."""
    code = """
        import collections, time
        a, b = map(int, input().split())
        if a == 1 and getattr(collections.Counter, "_seen", False):
            print("garbage"); sys.stdout.flush()
            raise RuntimeError("state from test 0")
        collections.Counter._seen = True
        burn = {2: 0.4, 3: 0.7}.get(a, 0)
        t = time.process_time()
        while time.process_time() - t < burn:
            pass
        print(a + b)
    """
    from curation.judge import sandbox
    seen = []
    real = sandbox.Sandbox.run_job

    def spy(self, job, box_files, tests, indices, limits, sinks, results, outcome):
        try:
            return real(self, job, box_files, tests, indices, limits, sinks, results, outcome)
        finally:
            seen.append(outcome.retries)

    import unittest.mock
    with unittest.mock.patch.object(sandbox.Sandbox, "run_job", spy):
        rep = judge(code, aplusb(5), limits=Limits(time_s=1.0, wall_s=3, memory_mb=256))
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * 5, [
        (t.verdict, t.diff, t.time_cpu, t.carried_cpu) for t in rep.tests]
    assert seen == [2]
    assert rep.tests[1].carried_cpu == 0 and rep.tests[3].carried_cpu == 0   # fresh runs
    got = pids(rep)
    assert got[0] != got[1] and got[2] != got[3], got
    assert_no_survivors()


def test_cpu_of_a_thread_that_ended_within_the_test_is_counted():
    """A thread that burns CPU and is joined before the test ends leaves one thread behind
    (a clean end): its CPU is still the test's, read from the whole thread group, even with
    no cgroup to add it up."""
    code = """
        import threading, time
        def burn():
            t = time.process_time()
            while time.process_time() - t < 0.4:
                pass
        a, b = map(int, input().split())
        if a == 1:
            th = threading.Thread(target=burn)
            th.start()
            th.join()
        print(a + b)
    """
    no_cgroup = dataclasses.replace(CONFIG, reuse_process=True, cgroups=False)
    rep = judge(code, aplusb(3), config=no_cgroup,
                limits=Limits(time_s=2, wall_s=5, memory_mb=256))
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * 3
    assert rep.resource_limits == "rlimits-only"
    assert rep.tests[1].time_cpu >= 0.35, [t.time_cpu for t in rep.tests]
    tight = judge(code, aplusb(3), config=no_cgroup,
                  limits=Limits(time_s=0.3, wall_s=5, memory_mb=256))
    assert tight.tests[1].verdict == Verdict.TLE, [(t.verdict, t.time_cpu) for t in tight.tests]
