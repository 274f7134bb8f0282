"""Throughput of the LLM difficulty predictor against the local OpenAI-protocol test server.

    .venv/bin/python benchmarks/predict_throughput.py            # 1000 problems, 300 ms, c=32, 10% faults
    .venv/bin/python benchmarks/predict_throughput.py --in-process  # server thread in this process

Prints wall time, the ideal (n x latency / concurrency), their ratio and the predictions lost
(must be 0). Exit status 1 when predictions are lost or the ratio exceeds --max-ratio.
The server runs in a child process by default so that its threads do not share the client's GIL
(as a real endpoint would not); it only ever listens on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from curation.difficulty.predictors.base import ProblemInput  # noqa: E402
from curation.difficulty.predictors.llm import LLMPredictor  # noqa: E402
from curation.llm.client import LLMConfig  # noqa: E402


def make_problems(n: int) -> list[ProblemInput]:
    return [
        ProblemInput(
            id=f"bench-{i}",
            title=f"Benchmark problem {i}",
            statement=(f"Problem {i}. Given n integers (1 <= n <= 2*10^5), answer q queries about "
                       f"subarray sums. Seed {i * 7919 % 100003}."),
            tags=["data structures"],
        )
        for i in range(n)
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--fault-rate", type=float, default=0.10)
    ap.add_argument("--fault-kinds", default="429,500,malformed")
    ap.add_argument("--retry-after", type=float, default=0.3)
    ap.add_argument("--max-ratio", type=float, default=1.25)
    ap.add_argument("--in-process", action="store_true", help="run the server as a thread here")
    args = ap.parse_args(argv)

    proc = None
    server = None
    if args.in_process:
        from tests.fixtures.openai_server import OpenAITestServer

        server = OpenAITestServer(latency=args.latency, fault_rate=args.fault_rate,
                                  fault_kinds=args.fault_kinds.split(","), retry_after=args.retry_after).start()
        url = server.url
    else:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fixtures.openai_server", "--latency", str(args.latency),
             "--fault-rate", str(args.fault_rate), "--fault-kinds", args.fault_kinds,
             "--retry-after", str(args.retry_after)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("URL "):
            print(f"server did not start: {line!r}", file=sys.stderr)
            proc.kill()
            return 2
        url = line.split(" ", 1)[1]

    try:
        problems = make_problems(args.n)
        config = LLMConfig(base_url=url, model="bench-model", concurrency=args.concurrency, timeout=10.0)
        predictor = LLMPredictor(config)
        t0 = time.monotonic()
        results = predictor.predict_many(problems)
        wall = time.monotonic() - t0
        usage = predictor.last_usage
        failed_first = [r for r in results if r.status != "ok"]
        # A rerun (as the pipeline would do) hits the cache for every ok result and retries only
        # the failed ones (failed results are never cached).
        rerun = predictor.predict_many(problems) if failed_first else results
        rerun_usage = predictor.last_usage
    finally:
        server_stats = {}
        if server is not None:
            reqs = server.requests
            server_stats = {"requests": len(reqs), "max_in_flight": server.max_in_flight,
                            "faults": {k: sum(1 for r in reqs if r.fault == k) for k in args.fault_kinds.split(",")}}
            server.stop()
        if proc is not None:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            try:
                out = proc.stdout.read()
                proc.wait(timeout=10)
                server_stats = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
            except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError):
                proc.kill()

    ideal = args.n * args.latency / args.concurrency
    transport_lost = sum(1 for r in failed_first if not r.error.startswith("invalid answer"))
    invalid_twice = len(failed_first) - transport_lost
    lost = sum(1 for r in rerun if r.status != "ok") + (args.n - len(rerun))
    ratio = wall / ideal if ideal else float("nan")
    print(f"problems            {args.n}")
    print(f"latency/concurrency {args.latency * 1000:.0f} ms / {args.concurrency}")
    print(f"fault rate          {args.fault_rate:.0%} ({args.fault_kinds}; Retry-After {args.retry_after:g}s)")
    print(f"server              {server_stats}")
    print(f"client              requests={usage.requests} retries={usage.retries} repairs={usage.repairs} "
          f"tokens={usage.total_tokens}")
    print(f"wall                {wall:.2f} s")
    print(f"ideal               {ideal:.2f} s")
    print(f"ratio               {ratio:.3f} (target <= {args.max_ratio})")
    print(f"failed, first pass  {len(failed_first)} (transport: {transport_lost}; invalid answer twice, "
          f"by policy: {invalid_twice})")
    if failed_first:
        print(f"rerun               requests={rerun_usage.requests} cached={rerun_usage.cached}")
    print(f"lost predictions    {lost}")
    return 0 if lost == 0 and ratio <= args.max_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
