"""Throughput of an evaluation run: samples generated and judged per second against the local
OpenAI-protocol test server (300 ms latency, 10% faults), at concurrency 32.

    .venv/bin/python benchmarks/eval_throughput.py                   # scratch PostgreSQL database
    .venv/bin/python benchmarks/eval_throughput.py --sqlite          # a temporary SQLite file instead

The run goes the real way: `eval_run_create` (its Celery task runs eagerly, inline), generation
through the project's LLM client, extraction, judging in the bubblewrap sandbox by each problem's
rule, every sample written to the database, the summary computed. Printed beside it: the ideal
n × latency / concurrency (generation alone, no faults, no judging) and their ratio; samples lost
(not judged) must be 0. Then an identical run, which reuses every answer from the cache and only
judges. The server runs in a child process so its threads do not share this process's GIL.
Exit status 1 when a sample is lost or the ratio exceeds --max-ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._common import django_setup, drop_database, scratch_database  # noqa: E402

RIGHT = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
WRONG = "Here:\n```python\nprint(0)\n```"


def make_benchmark(problems: int) -> None:
    import datetime as dt

    from curation.models import Problem, Source, TestCase

    src = Source.objects.create(name="bench-lcb", license="CC-BY-4.0")
    for i in range(problems):
        p = Problem.objects.create(
            source=src, external_id=f"q{i}", title=f"Sum {i}", platform="atcoder",
            statement=f"[[bench-{i:04d}]] Read two integers and print their sum.", content_hash=f"h{i}",
            contest_date=dt.date(2024, 9 + i % 3, 1), difficulty_label=("easy", "medium", "hard")[i % 3],
            is_benchmark=True, benchmark_name="bench", comparison={"mode": "tokens"}, time_limit_ms=2000,
        )
        TestCase.objects.bulk_create([TestCase(problem=p, ordinal=t, input=f"{t} {t + 1}\n", output=f"{2 * t + 1}\n")
                                      for t in range(3)])


def generation_only(server_url: str, args) -> float:
    import asyncio

    from curation.llm.client import LLMClient, LLMConfig, run_coroutine

    client = LLMClient(LLMConfig(base_url=server_url, model="bench-model-baseline", concurrency=args.concurrency,
                                 timeout=10, temperature=0.8))
    prompts = [[{"role": "user", "content": f"[[bench-{i % args.problems:04d}]] baseline"}]
               for i in range(args.problems * args.samples)]

    async def go():
        async with client:
            await asyncio.gather(*(client.acomplete(p, n=1, top_p=0.95) for p in prompts))

    t0 = time.monotonic()
    run_coroutine(go())
    return time.monotonic() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=40)
    ap.add_argument("-n", "--samples", type=int, default=32, help="samples per problem")
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--fault-rate", type=float, default=0.10)
    ap.add_argument("--fault-kinds", default="429,500")
    ap.add_argument("--retry-after", type=float, default=0.3)
    ap.add_argument("--max-ratio", type=float, default=1.25)
    ap.add_argument("--sqlite", action="store_true")
    args = ap.parse_args(argv)

    tmp = tempfile.TemporaryDirectory(prefix="eval-bench-")
    db_name = f"bench_eval_{os.getpid()}"
    url = f"sqlite:///{tmp.name}/bench.sqlite3" if args.sqlite else scratch_database(db_name)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"  # the task runs inline: this process is the worker
    os.environ["MICROCODER_VAR_DIR"] = tmp.name
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a log line per HTTP request
    django_setup(url)
    answers_file = Path(tmp.name) / "answers.json"
    # Each problem: the right program and a wrong one, alternating (two distinct programs to judge).
    answers_file.write_text(json.dumps({f"[[bench-{i:04d}]]": [RIGHT, WRONG] for i in range(args.problems)}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.openai_server", "--latency", str(args.latency),
         "--fault-rate", str(args.fault_rate), "--fault-kinds", args.fault_kinds,
         "--retry-after", str(args.retry_after), "--raw-answers", str(answers_file)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    server_stats: dict = {}
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("URL "):
            print(f"server did not start: {line!r}", file=sys.stderr)
            return 2
        server_url = line.split(" ", 1)[1]
        from django.conf import settings

        from evaluations.models import EvalSample
        from evaluations.services import eval_run_create

        make_benchmark(args.problems)
        # Baseline measured here: the same client asking for the same number of samples, no judging,
        # no database (what this machine allows generation alone, faults included).
        gen_only = generation_only(server_url, args)
        params = dict(user=None, model_name="bench-model", base_url=server_url, benchmark_name="bench",
                      n_samples=args.samples, temperature=0.8, concurrency=args.concurrency, request_timeout_s=10)
        t0 = time.monotonic()
        run = eval_run_create(**params)
        wall = time.monotonic() - t0
        run.refresh_from_db()
        t1 = time.monotonic()
        rerun = eval_run_create(name="rerun", **params)
        rerun_wall = time.monotonic() - t1
        rerun.refresh_from_db()
        judged = EvalSample.objects.filter(run=run, status="judged").count()
        verdicts = dict((v, EvalSample.objects.filter(run=run, verdict=v).count()) for v in ("AC", "WA"))
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            out = proc.stdout.read() if proc.stdout else ""
            proc.wait(timeout=10)
            server_stats = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError):
            proc.kill()
        if not args.sqlite:
            from django.db import connections

            connections.close_all()
            drop_database(db_name)
        tmp.cleanup()

    total = args.problems * args.samples
    ideal = total * args.latency / args.concurrency
    ratio = wall / ideal
    lost = total - judged
    print(f"database            {'sqlite' if args.sqlite else 'postgresql'}; judge workers {settings.VERIFY_PARALLELISM}")
    print(f"samples             {total} ({args.problems} problems x n={args.samples}; 2 distinct programs per problem)")
    print(f"latency/concurrency {args.latency * 1000:.0f} ms / {args.concurrency}")
    print(f"fault rate          {args.fault_rate:.0%} ({args.fault_kinds}; Retry-After {args.retry_after:g}s)")
    print(f"server              {server_stats}")
    print(f"run                 {run.status}: {run.message}; verdicts {verdicts}; tokens {run.prompt_tokens}+{run.completion_tokens}")
    print(f"wall                {wall:.2f} s  ({total / wall:.1f} samples/s generated and judged)")
    print(f"ideal               {ideal:.2f} s  ({total / ideal:.1f} samples/s)")
    print(f"ratio               {ratio:.3f} (target <= {args.max_ratio})")
    print(f"generation alone    {gen_only:.2f} s with the same client and faults (ratio to ideal {gen_only / ideal:.3f}; "
          f"the run costs {wall / gen_only:.2f}x that)")
    print(f"lost samples        {lost} (failed answers: {run.samples_failed})")
    print(f"identical rerun     {rerun_wall:.2f} s, {rerun.cached_samples} answers from the cache, status {rerun.status}")
    return 0 if lost == 0 and run.samples_failed == 0 and ratio <= args.max_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
