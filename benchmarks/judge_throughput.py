#!/usr/bin/env python3
"""Judge throughput, each shape beside the naive baseline measured in the same run.

The judge runs with full isolation (bubblewrap namespaces, per-solution namespaces in a
warm sandbox, seccomp, cgroups where available); the baseline is the obvious unsandboxed
``subprocess.run([python3, main.py], input=..., timeout=...)`` per test.  stdin-mode Python
runs a solution's tests in one process by default (``SandboxConfig.reuse_process``: each
later test is charged the CPU of the earlier ones, and re-run fresh when that or anything
else is in doubt); ``--no-reuse-process`` measures one process per test.

Shapes:

  reward    the RL-reward shape: one completion (A+B), 4 tiny tests, judged by its own
            ``judge_solution`` call (the warm pool is what the reward gets by default);
            solutions/s.  Target: >= 5x naive.
  tiny      many tiny tests of one solution in one call; tests/s.  Target: >= 10x naive.
  codeforces  every Codeforces reference solution of ../shared/data/codecontests on all its
            tests, judge and naive each over the same number of worker processes (--workers);
            tests/s per core.  Target: >= 1.0x naive.

    .venv/bin/python benchmarks/judge_throughput.py                       # all three
    .venv/bin/python benchmarks/judge_throughput.py --shape reward --n 200
    .venv/bin/python benchmarks/judge_throughput.py --shape codeforces --limit 40
"""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.judge import (Limits, SandboxConfig, compare_output,  # noqa: E402
                            detect_float_tolerance, judge_solution)

DEFAULT_DATA = REPO.parent / "shared" / "data" / "codecontests"
APLUSB = "a, b = map(int, input().split())\nprint(a + b)\n"
REWARD_TESTS = [("1 2\n", "3\n"), ("5 7\n", "12\n"), ("-3 3\n", "0\n"), ("100 23\n", "123\n")]


# ----------------------------------------------------------------------------------
# naive baseline
# ----------------------------------------------------------------------------------
def naive_judge(path: str, tests, rule, time_s: float, python: str) -> list[str]:
    verdicts = []
    for inp, exp in tests:
        try:
            p = subprocess.run([python, path], input=inp.encode(), capture_output=True,
                               timeout=2 * time_s + 1)
        except subprocess.TimeoutExpired:
            verdicts.append("TLE")
            continue
        if p.returncode != 0:
            verdicts.append("RE")
            continue
        ok, _ = compare_output(p.stdout.decode("utf-8", "replace"), exp, rule)
        verdicts.append("AC" if ok else "WA")
    return verdicts


def _write_tmp(code: str) -> str:
    fd, path = tempfile.mkstemp(suffix=".py")
    with os.fdopen(fd, "w") as f:
        f.write(code)
    return path


# ----------------------------------------------------------------------------------
# RL-reward shape and tiny tests
# ----------------------------------------------------------------------------------
def shape_reward(n: int, python: str) -> dict:
    """Judge and naive alternate completion by completion, so that both see the same
    machine (a shared machine's load changes from minute to minute)."""
    judge_solution(APLUSB, "python3", REWARD_TESTS, config=SandboxConfig())           # warm-up: the pool starts
    path = _write_tmp(APLUSB)
    jt = nt = 0.0
    verdicts, nv = collections.Counter(), collections.Counter()
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            rep = judge_solution(APLUSB, "python3", REWARD_TESTS, config=SandboxConfig())
            t1 = time.perf_counter()
            v = naive_judge(path, REWARD_TESTS, {"mode": "tokens"}, 2.0, python)
            t2 = time.perf_counter()
            jt, nt = jt + t1 - t0, nt + t2 - t1
            verdicts[rep.verdict.value] += 1
            nv["AC" if all(x == "AC" for x in v) else "WA"] += 1
    finally:
        os.unlink(path)
    print(f"reward shape ({n} completions x {len(REWARD_TESTS)} tiny tests, one "
          f"judge_solution each, {rep.isolation}, {rep.resource_limits}, seccomp {rep.seccomp}):")
    print(f"  judge {n / jt:8.1f} solutions/s ({jt / n * 1e3:.1f} ms each) {dict(verdicts)}")
    print(f"  naive {n / nt:8.1f} solutions/s ({nt / n * 1e3:.1f} ms each) {dict(nv)}")
    print(f"  ratio judge/naive: {nt / jt:.2f}x   (target >= 5x)")
    return {"ratio": nt / jt}


def shape_tiny(n: int, python: str, chunk: int = 50) -> dict:
    """One solution, ``n`` tiny tests per judge call; judge calls and the naive run of the
    same tests alternate (same machine load for both)."""
    tests = [(f"{k} {k + 1}\n", f"{2 * k + 1}\n") for k in range(n)]
    judge_solution(APLUSB, "python3", tests[:2], config=SandboxConfig())
    path = _write_tmp(APLUSB)
    jt = nt = 0.0
    counts, nv = collections.Counter(), collections.Counter()
    rounds = 4
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            rep = judge_solution(APLUSB, "python3", tests, config=SandboxConfig())
            t1 = time.perf_counter()
            nv.update(naive_judge(path, tests[:chunk], {"mode": "tokens"}, 2.0, python))
            t2 = time.perf_counter()
            jt += t1 - t0
            nt += (t2 - t1) * n / chunk       # the naive run is linear in the tests
            counts.update(rep.counts)
    finally:
        os.unlink(path)
    total = n * rounds
    print(f"tiny tests ({n} tests of one solution per call, {rounds} calls; naive timed on "
          f"{chunk} tests per round and scaled):")
    print(f"  judge {total / jt:8.1f} tests/s ({jt / total * 1e3:.2f} ms each) {dict(counts)}")
    print(f"  naive {total / nt:8.1f} tests/s ({nt / total * 1e3:.2f} ms each) {dict(nv)}")
    print(f"  ratio judge/naive: {nt / jt:.2f}x   (target >= 10x)")
    return {"ratio": nt / jt}


# ----------------------------------------------------------------------------------
# Codeforces workload
# ----------------------------------------------------------------------------------
def load_problems(root: Path, limit: int | None):
    probs = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        main = d / "main.py"
        tdir = d / "tests"
        if not main.exists() or not tdir.is_dir():
            continue
        tests = []
        n = 1
        while (tdir / f"input_{n}.txt").exists():
            tests.append(((tdir / f"input_{n}.txt").read_text(),
                          (tdir / f"output_{n}.txt").read_text()))
            n += 1
        statement = (d / "PROBLEM.md").read_text() if (d / "PROBLEM.md").exists() else ""
        rule = detect_float_tolerance(statement) or {"mode": "tokens"}
        probs.append((d.name, str(main), tests, rule))
        if limit and len(probs) >= limit:
            break
    return probs


def _judge_problem(args):
    name, path, tests, rule, time_s = args
    t0 = time.perf_counter()
    rep = judge_solution(Path(path).read_text(), "python3", tests, comparison=rule,
                         limits=Limits(time_s=time_s, memory_mb=1024), config=SandboxConfig())
    return name, [t.verdict.value for t in rep.tests], rep.isolation, time.perf_counter() - t0


def _naive_problem(args):
    name, path, tests, rule, time_s, python = args
    t0 = time.perf_counter()
    return name, naive_judge(path, tests, rule, time_s, python), time.perf_counter() - t0


def shape_codeforces(probs, time_s: float, workers: int, python: str, show: bool) -> dict:
    ntests = sum(len(p[2]) for p in probs)
    # Longest first keeps every worker busy until the end (both sides get the same order).
    order = sorted(probs, key=lambda p: -sum(len(i) + len(o) for i, o in p[2]))
    print(f"codeforces: {len(probs)} problems, {ntests} tests, time limit {time_s}s/test, "
          f"{workers} workers each side, {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    jv, iso = {}, set()
    with ProcessPoolExecutor(workers) as ex:
        for name, verdicts, isolation, _ in ex.map(
                _judge_problem, [(n, p, t, r, time_s) for n, p, t, r in order]):
            jv[name] = verdicts
            iso.add(isolation)
    jt = time.perf_counter() - t0
    t0 = time.perf_counter()
    nv = {}
    with ProcessPoolExecutor(workers) as ex:
        for name, verdicts, _ in ex.map(
                _naive_problem, [(n, p, t, r, time_s, python) for n, p, t, r in order]):
            nv[name] = verdicts
    nt = time.perf_counter() - t0
    jc = collections.Counter(v for vs in jv.values() for v in vs)
    nc = collections.Counter(v for vs in nv.values() for v in vs)
    print(f"  judge ({'/'.join(sorted(iso))}): {jt:.1f}s  {ntests / jt:.1f} tests/s  "
          f"{ntests / jt / workers:.1f} tests/s per worker  {dict(sorted(jc.items()))}")
    print(f"  naive (no isolation):   {nt:.1f}s  {ntests / nt:.1f} tests/s  "
          f"{ntests / nt / workers:.1f} tests/s per worker  {dict(sorted(nc.items()))}")
    print(f"  ratio judge/naive per core: {nt / jt:.2f}x   (target >= 1.0x)")
    diff = {n: (jv[n], nv[n]) for n in jv
            if [x == "AC" for x in jv[n]] != [x == "AC" for x in nv[n]]}
    if diff:
        print(f"  problems where the verdicts differ: {len(diff)} (e.g. the naive run crashes "
              "where a solution fstat()s a piped stdin)")
        for n, (j, b) in list(diff.items())[:10 if show else 3]:
            print(f"    {n}: judge {dict(collections.Counter(j))} "
                  f"naive {dict(collections.Counter(b))}")
    return {"ratio": nt / jt}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=("all", "reward", "tiny", "codeforces"), default="all")
    ap.add_argument("--n", type=int, default=100, help="completions of the reward shape")
    ap.add_argument("--tiny", type=int, default=300, help="tests of the tiny shape")
    ap.add_argument("--limit", type=int, default=None, help="only the first N problems")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--time-limit", type=float, default=5.0, help="CPU seconds per test")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--python", default="/usr/bin/python3", help="interpreter of the baseline")
    ap.add_argument("--show-failures", action="store_true")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--reuse-process", dest="reuse", action="store_true", default=None,
                      help="stdin-mode Python: one process per solution (SandboxConfig.reuse_process)")
    mode.add_argument("--no-reuse-process", dest="reuse", action="store_false",
                      help="stdin-mode Python: one process per test")
    a = ap.parse_args(argv)
    if a.reuse is not None:
        # through the environment: SandboxConfig() reads it here and in the pool's workers
        os.environ["MICROCODER_JUDGE_REUSE_PROCESS"] = "1" if a.reuse else "0"
    print("judge mode: %s" % ("one process per solution (reuse_process)"
                              if SandboxConfig().reuse_process else "one process per test"))
    # Both sides of each ratio share the machine; a loaded machine lowers both, unevenly.
    print("load average %.2f %.2f %.2f, %d CPUs" % (*os.getloadavg(), os.cpu_count() or 1))
    if a.shape in ("all", "reward"):
        shape_reward(a.n, a.python)
    if a.shape in ("all", "tiny"):
        shape_tiny(a.tiny, a.python)
    if a.shape in ("all", "codeforces"):
        shape_codeforces(load_problems(a.data, a.limit), a.time_limit, a.workers, a.python,
                         a.show_failures)


if __name__ == "__main__":
    main()
