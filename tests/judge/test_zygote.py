"""Many-test stdin solutions run each test as a clone of a locked-down zygote (driver.py,
``_zygote``): what one test does to the zygote or leaves behind must not reach the next."""
import textwrap
import time

import pytest

from curation.judge import Verdict, judge_solution

from .conftest import CONFIG, HOSTILE_LIMITS, assert_no_survivors

pytestmark = pytest.mark.usefixtures("sandbox_ok")

N = 8


def judge(code, tests, limits=HOSTILE_LIMITS):
    return judge_solution(textwrap.dedent(code), "python3", tests, limits=limits,
                          config=CONFIG)


def test_a_straggler_that_hides_from_proc_dies_with_its_test():
    """Test 0 leaves a process behind that made itself non-dumpable (hidden by hidepid
    from everything without CAP_SYS_PTRACE) and listens on an abstract socket; every
    later test finds nobody listening."""
    code = """
        import ctypes, os, socket, time
        cmd = input().strip()
        NAME = b"\\0microcoder-zygote-straggler"
        if cmd == "leave":
            if os.fork() == 0:
                ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)      # PR_SET_DUMPABLE 0
                s = socket.socket(socket.AF_UNIX)
                s.bind(NAME)
                s.listen(8)
                while True:
                    time.sleep(1)
            time.sleep(0.2)
            print("left")
        else:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(NAME)
                print("alive")
            except OSError:
                print("dead")
        """
    tests = [("leave\n", "left")] + [("probe\n", "dead")] * (N - 1)
    rep = judge(code, tests)
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * N, rep.tests
    assert_no_survivors()


def test_a_stopped_or_killed_zygote_costs_nothing_but_itself():
    """A test may signal the zygote (same uid): stopped or killed, the next tests still
    run, promptly, with the verdicts they deserve."""
    code = """
        import os, signal
        cmd = input().strip()
        if cmd in ("stop", "kill"):
            try:
                os.kill(-1, signal.SIGSTOP if cmd == "stop" else signal.SIGKILL)
            except ProcessLookupError:
                pass
        print(cmd)
        """
    cmds = ["stop", "x", "y", "kill", "z", "stop", "w", "v"]
    t0 = time.monotonic()
    rep = judge(code, [(c + "\n", c) for c in cmds])
    took = time.monotonic() - t0
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * len(cmds), rep.tests
    # a stopped zygote is given up after at most a second, not a wall limit per test
    assert took < 2 * 1.0 + 15, took
    assert_no_survivors()


def test_threads_work_without_the_preimport():
    """threading is not preloaded (its after-fork hook is costly); solutions that use the
    usual deep-recursion thread still run, and report the right exit."""
    code = """
        import sys, threading
        sys.setrecursionlimit(10 ** 6)
        threading.stack_size(1 << 26)
        def depth(n):
            return 0 if n == 0 else 1 + depth(n - 1)
        def main():
            print(depth(int(input())))
        t = threading.Thread(target=main)
        t.start()
        t.join()
        """
    tests = [(f"{k * 1000}\n", str(k * 1000)) for k in range(N)]
    rep = judge(code, tests)
    assert [t.verdict for t in rep.tests] == [Verdict.AC] * N, rep.tests
