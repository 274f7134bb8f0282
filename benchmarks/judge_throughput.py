#!/usr/bin/env python3
"""Judge throughput on the Codeforces reference solutions of ../shared/data/codecontests.

Runs every reference solution (main.py) on all its tests twice, in the same run:

  * judge:  curation.judge.judge_solution (bubblewrap sandbox, pre-forked driver, one
            sandbox per solution), over a process pool of --workers (default 2);
  * naive:  one ``subprocess.run(["python3", main.py], input=..., timeout=...)`` per test,
            no isolation, sequential (the obvious baseline).

and prints tests/s, verdict counts and the ratio.

    .venv/bin/python benchmarks/judge_throughput.py --limit 40
    .venv/bin/python benchmarks/judge_throughput.py            # all 383 problems
"""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.judge import (Limits, SandboxConfig, compare_output,  # noqa: E402
                            detect_float_tolerance, judge_solution)

CHUNK = 25   # tests per sandbox (one sandbox per solution and chunk)
DEFAULT_DATA = REPO.parent / "shared" / "data" / "codecontests"


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
        probs.append((d.name, main.read_text(), tests, rule))
        if limit and len(probs) >= limit:
            break
    return probs


def _judge_one(args):
    name, start, code, tests, rule, time_s = args
    t0 = time.perf_counter()
    rep = judge_solution(code, "python3", tests, comparison=rule,
                         limits=Limits(time_s=time_s, memory_mb=1024), config=SandboxConfig())
    return (name, start, [t.verdict.value for t in rep.tests], rep.isolation,
            time.perf_counter() - t0)


def run_judge(probs, time_s, workers):
    t0 = time.perf_counter()
    counts = collections.Counter()
    per_problem = {}
    isolation = set()
    elapsed = {}
    # Work items: (problem, chunk of <= CHUNK tests), biggest inputs first (longest
    # processing time first keeps both workers busy until the end).
    items = []
    for n, c, t, r in probs:
        for k in range(0, len(t), CHUNK):
            items.append((n, k, c, t[k:k + CHUNK], r, time_s))
    items.sort(key=lambda it: -sum(len(i) + len(o) for i, o in it[3]))
    chunks = {}
    with ProcessPoolExecutor(workers) as ex:
        for name, start, verdicts, iso, el in ex.map(_judge_one, items):
            counts.update(verdicts)
            chunks.setdefault(name, {})[start] = verdicts
            isolation.add(iso)
            elapsed[name] = elapsed.get(name, 0.0) + el
    for name, parts in chunks.items():
        per_problem[name] = [v for k in sorted(parts) for v in parts[k]]
    return time.perf_counter() - t0, counts, per_problem, isolation, elapsed


def run_naive(probs, time_s, python):
    t0 = time.perf_counter()
    counts = collections.Counter()
    per_problem = {}
    elapsed = {}
    for name, code, tests, rule in probs:
        t1 = time.perf_counter()
        path = DEFAULT_DATA / name / "main.py"
        verdicts = []
        for inp, exp in tests:
            try:
                p = subprocess.run([python, str(path)], input=inp.encode(), capture_output=True,
                                   timeout=2 * time_s + 1)
            except subprocess.TimeoutExpired:
                verdicts.append("TLE")
                continue
            if p.returncode != 0:
                verdicts.append("RE")
                continue
            ok, _ = compare_output(p.stdout.decode("utf-8", "replace"), exp, rule)
            verdicts.append("AC" if ok else "WA")
        counts.update(verdicts)
        per_problem[name] = verdicts
        elapsed[name] = time.perf_counter() - t1
    return time.perf_counter() - t0, counts, per_problem, elapsed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="only the first N problems")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--time-limit", type=float, default=5.0, help="CPU seconds per test")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--python", default="/usr/bin/python3", help="interpreter of the baseline")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--show-failures", action="store_true")
    a = ap.parse_args(argv)
    probs = load_problems(a.data, a.limit)
    ntests = sum(len(p[2]) for p in probs)
    print(f"{len(probs)} problems, {ntests} tests, time limit {a.time_limit}s/test, "
          f"{os.cpu_count()} CPUs")
    jt, jc, jp, iso, jel = run_judge(probs, a.time_limit, a.workers)
    print(f"judge ({'/'.join(sorted(iso))}, {a.workers} workers): {jt:.1f}s  "
          f"{ntests / jt:.1f} tests/s  {dict(sorted(jc.items()))}")
    if a.show_failures:
        for name, v in jp.items():
            bad = collections.Counter(x for x in v if x != "AC")
            if bad:
                print(f"  {name}: {dict(bad)} of {len(v)}")
    if not a.no_baseline:
        nt, nc, npp, nel = run_naive(probs, a.time_limit, a.python)
        print(f"naive (subprocess.run per test, no isolation, sequential): {nt:.1f}s  "
              f"{ntests / nt:.1f} tests/s  {dict(sorted(nc.items()))}")
        print(f"ratio judge/naive: {(ntests / jt) / (ntests / nt):.2f}x")
        diff = {n: (jp[n], npp[n]) for n in jp if [x == "AC" for x in jp[n]] != [x == "AC" for x in npp[n]]}
        same = [n for n in jp if n not in diff]
        if diff and same:
            # Like for like: only problems where both runs gave the same verdicts (e.g. the
            # naive run crashes at once where a solution fstat()s a piped stdin).  The
            # judge's time there is its per-problem time divided by the pool size.
            k = sum(len(jp[n]) for n in same)
            jt_s = sum(jel[n] for n in same) / a.workers
            nt_s = sum(nel[n] for n in same)
            print(f"same-verdict problems only ({len(same)} problems, {k} tests): judge "
                  f"~{k / jt_s:.1f} tests/s, naive {k / nt_s:.1f} tests/s, ratio "
                  f"~{nt_s / jt_s:.2f}x")
        if diff:
            print(f"problems where the verdicts differ: {len(diff)}")
            for n, (j, b) in list(diff.items())[:20]:
                print(f"  {n}: judge {dict(collections.Counter(j))} naive {dict(collections.Counter(b))}")


if __name__ == "__main__":
    main()
