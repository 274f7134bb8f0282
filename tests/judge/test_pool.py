"""The warm pool: sandboxes are reused across solutions, every solution still starts clean,
and a forked worker never touches its parent's sandboxes."""
import os

import pytest

from curation.judge import SandboxConfig, Verdict, judge_solution, prewarm
from curation.judge import sandbox as sandbox_mod

from .conftest import assert_no_survivors

pytestmark = pytest.mark.usefixtures("sandbox_ok")

# A config of its own: the pool is keyed by config, so this test sees only its sandboxes.
POOLED = SandboxConfig(pool_size=2, tmpfs_size_mb=32)


def test_sandboxes_are_reused_and_started_ahead():
    sandbox_mod.shutdown_pool()
    assert prewarm(POOLED, 1) == 1
    assert sandbox_mod.pool_size(POOLED) == 1
    sb = sandbox_mod._pool[POOLED][0]
    pid = sb.proc.pid
    for k in range(3):
        rep = judge_solution(f"print({k})", "python3", [("", str(k))], config=POOLED)
        assert rep.verdict == Verdict.AC, rep.tests
    assert sandbox_mod.pool_size(POOLED) == 1
    again = sandbox_mod._pool[POOLED][0]
    assert again.proc.pid == pid and again.jobs == 3       # one sandbox, three solutions
    assert_no_survivors()


def test_a_forked_worker_starts_its_own_pool():
    judge_solution("print(1)", "python3", [("", "1")], config=POOLED)
    parent = sandbox_mod._pool[POOLED][0]
    parent_pid = parent.proc.pid
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:   # a Celery prefork child / ProcessPoolExecutor worker
        try:
            rep = judge_solution("print(2)", "python3", [("", "2")], config=POOLED)
            mine = sandbox_mod._pool[POOLED][0]
            ok = rep.verdict == Verdict.AC and mine.proc.pid != parent_pid
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    got = os.read(r, 1)
    os.waitpid(pid, 0)
    assert got == b"1"
    assert parent.alive()              # the child closed its copies, not our sandbox
    assert judge_solution("print(3)", "python3", [("", "3")],
                          config=POOLED).verdict == Verdict.AC
