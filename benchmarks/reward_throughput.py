#!/usr/bin/env python3
"""RL reward throughput on real problems, and metric ingestion of a 100k-line metrics file.

Reward: completions (the reference solution, fenced as a model would answer, and a wrong answer,
alternating) for Codeforces problems of ../shared/data/codecontests, each judged on up to
--tests tests, measured twice in the same run:

  * reward:   training_jobs.reward.score_many — extraction, a child process per completion with a
              hard deadline, the bubblewrap sandbox, the problem's comparison rule; --workers at once;
  * baseline: one unsandboxed ``subprocess.run(["python3", file], input=...)`` per test, sequential,
              with a plain token comparison (the obvious way, no isolation, no deadline per completion).

Metrics: a verl-shaped JSONL file of --lines rows (25 numbers each) read by byte offset in bounded
chunks, as the poller does; rows/s and peak Python memory at 10% and 100% of the file (flat memory
means the peak does not grow with the file).

    .venv/bin/python benchmarks/reward_throughput.py --problems 12 --tests 8 --workers 2
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.judge.spec import JudgeSpec  # noqa: E402
from training_jobs import metrics  # noqa: E402
from training_jobs.reward import score_many  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "codecontests"
WRONG = "print(0)\n"


def load(root: Path, limit: int, max_tests: int):
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        main, tdir = d / "main.py", d / "tests"
        if not main.exists() or not tdir.is_dir():
            continue
        tests, n = [], 1
        while (tdir / f"input_{n}.txt").exists() and len(tests) < max_tests:
            tests.append(((tdir / f"input_{n}.txt").read_text(), (tdir / f"output_{n}.txt").read_text()))
            n += 1
        if tests:
            out.append((main.read_text(), JudgeSpec(time_limit_s=6.0, memory_limit_mb=512, tests=tuple(tests))))
        if len(out) >= limit:
            break
    return out


def completions(problems):
    pairs = []
    for i, (code, spec) in enumerate(problems):
        body = code if i % 2 == 0 else WRONG
        pairs.append((f"Here is my solution.\n```python\n{body}\n```\n", spec))
    return pairs


def baseline(pairs) -> tuple[float, int]:
    started = time.perf_counter()
    correct = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (completion, spec) in enumerate(pairs):
            code = completion.split("```python\n", 1)[1].rsplit("\n```", 1)[0]
            path = Path(tmp) / f"c{i}.py"
            path.write_text(code)
            ok = True
            for inp, expected in spec.tests:
                try:
                    done = subprocess.run([sys.executable, str(path)], input=inp, capture_output=True, text=True,
                                          timeout=spec.time_limit_s * 2 + 1)
                    ok = ok and done.stdout.split() == expected.split()
                except subprocess.TimeoutExpired:
                    ok = False
            correct += ok
    return time.perf_counter() - started, correct


def metrics_file(path: Path, lines: int) -> None:
    keys = ["critic/score/mean", "critic/score/std", "response_length/mean", "response_length/clip_ratio",
            "actor/entropy", "actor/pg_clipfrac", "actor/ppo_kl", "actor/grad_norm", "actor/pg_loss", "actor/lr",
            "timing_s/step"] + [f"extra/{i}" for i in range(14)]
    with path.open("w") as fh:
        for step in range(1, lines + 1):
            fh.write(json.dumps({"step": step, "data": {k: step * 0.001 + j for j, k in enumerate(keys)}}) + "\n")


def ingest(path: Path, chunk: int, trace: bool = False) -> tuple[int, float, int]:
    if trace:  # tracemalloc slows allocation: memory and time are measured in separate passes
        tracemalloc.start()
    started = time.perf_counter()
    offset, inode, rows = 0, None, 0
    while True:
        result = metrics.read_new(str(path), offset, inode, max_bytes=chunk)
        if result.offset == offset:
            break
        rows += len(result.rows)
        offset, inode = result.offset, result.inode
    elapsed = time.perf_counter() - started
    peak = 0
    if trace:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return rows, elapsed, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--problems", type=int, default=12)
    parser.add_argument("--tests", type=int, default=8, help="tests per problem")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--chunk-mb", type=float, default=1.0)
    args = parser.parse_args()

    pairs = completions(load(args.data, args.problems, args.tests))
    n_tests = sum(len(spec.tests) for _c, spec in pairs)
    print(f"reward: {len(pairs)} completions, {n_tests} tests, {args.workers} workers")
    started = time.perf_counter()
    results = score_many(pairs, workers=args.workers, deadline_s=120)
    reward_s = time.perf_counter() - started
    verdicts: dict[str, int] = {}
    for r in results:
        verdicts[r.verdict] = verdicts.get(r.verdict, 0) + 1
    print(f"  reward   : {reward_s:7.2f} s  {len(pairs) / reward_s:6.2f} completions/s  {n_tests / reward_s:7.1f} tests/s"
          f"  scores={sum(r.score for r in results):.0f}/{len(pairs)} verdicts={verdicts}")
    base_s, correct = baseline(pairs)
    print(f"  baseline : {base_s:7.2f} s  {len(pairs) / base_s:6.2f} completions/s  {n_tests / base_s:7.1f} tests/s"
          f"  correct={correct}/{len(pairs)} (unsandboxed subprocess.run per test, sequential)")
    print(f"  ratio reward/baseline throughput: {base_s / reward_s:.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metrics.jsonl"
        chunk = int(args.chunk_mb * (1 << 20))
        small = Path(tmp) / "small.jsonl"
        metrics_file(small, max(1, args.lines // 10))
        metrics_file(path, args.lines)
        size_mb = path.stat().st_size / (1 << 20)
        rows_small, _t, peak_small = ingest(small, chunk, trace=True)
        _rows, _t, peak = ingest(path, chunk, trace=True)
        rows, elapsed, _peak = ingest(path, chunk)
        started = time.perf_counter()
        with path.open("rb") as fh:
            plain = sum(1 for line in fh if json.loads(line))
        plain_s = time.perf_counter() - started
        print(f"metrics: {args.lines} lines ({size_mb:.1f} MB), read by offset in {args.chunk_mb:g} MB chunks")
        print(f"  ingest   : {elapsed:6.2f} s  {rows / elapsed:10.0f} points/s  {args.lines / elapsed:8.0f} lines/s"
              f"  peak {peak / (1 << 20):.1f} MB (10% of the file: {peak_small / (1 << 20):.1f} MB, {rows_small} points)")
        print(f"  baseline : {plain_s:6.2f} s  {plain / plain_s:8.0f} lines/s  (json.loads per line, no canonical names)")
        print(f"  ratio ingest/baseline lines/s: {(args.lines / elapsed) / (plain / plain_s):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
