#!/usr/bin/env python
"""Import throughput: a synthetic LiveCodeBench file of N problems (10 tests each) into PostgreSQL.

Prints problems/s and peak RSS of the real import (`import_run_execute`: parse, validate, hash,
write in chunks), beside a baseline measured in the same run: the same rows loaded with a bare
`COPY` into scratch tables (parsing the JSON lines, nothing else), and the ratio.

    .venv/bin/python benchmarks/import_throughput.py [--n 100000] [--tests 10]
"""
from __future__ import annotations

import argparse
import base64
import json
import pickle
import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RssSampler, django_setup, drop_database, peak_rss_mb, scratch_database  # noqa: E402

WORDS = "array tree graph query string integer sum maximum minimum path edge vertex prefix suffix modulo".split()


def write_synthetic_file(path: Path, n: int, tests: int) -> int:
    rng = random.Random(42)
    with path.open("w") as fh:
        for i in range(n):
            cases = []
            for t in range(tests):
                values = " ".join(str(rng.randint(1, 10**9)) for _ in range(rng.randint(3, 12)))
                cases.append({"input": f"{len(values.split())}\n{values}\n", "output": f"{rng.randint(0, 10**9)}\n", "testtype": "stdin"})
            public, private = cases[:2], cases[2:]
            # Real LiveCodeBench files carry private tests as base64(zlib(pickle(json))).
            private_blob = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(private)))).decode()
            statement = " ".join(rng.choice(WORDS) for _ in range(120))
            row = {
                "question_title": f"Synthetic problem {i}",
                "question_content": f"Given an {statement}.\n\nInput\nThe first line ...\n\nOutput\nPrint the answer.",
                "platform": "atcoder",
                "question_id": f"syn{i:06d}",
                "contest_id": f"abc{i // 6}",
                "contest_date": "2024-0%d-1%dT00:00:00" % (1 + i % 9, i % 10),
                "starter_code": "",
                "difficulty": ("easy", "medium", "hard")[i % 3],
                "public_test_cases": json.dumps(public),
                "private_test_cases": private_blob,
                "metadata": "{}",
            }
            fh.write(json.dumps(row) + "\n")
    return path.stat().st_size


def copy_baseline(path: Path, database_url: str) -> float:
    """The same rows with a bare COPY: json.loads per line, tests decoded, no validation or hashing."""
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        conn.execute("CREATE TEMP TABLE scratch_problem (id bigint, external_id text, title text, statement text, raw jsonb)")
        conn.execute("CREATE TEMP TABLE scratch_test (problem_id bigint, ordinal int, input text, output text, kind text)")
        start = time.perf_counter()
        with conn.cursor() as cur, path.open() as fh:
            problems, tests_rows = [], []
            for i, line in enumerate(fh):
                row = json.loads(line)
                problems.append((i, row["question_id"], row["question_title"], row["question_content"], line))
                public = json.loads(row["public_test_cases"])
                private = json.loads(pickle.loads(zlib.decompress(base64.b64decode(row["private_test_cases"]))))  # noqa: S301 — our own synthetic file
                for k, case in enumerate(public + private):
                    tests_rows.append((i, k, case["input"], case["output"], "sample" if k < len(public) else "hidden"))
                if len(problems) >= 5000:
                    _copy_batch(cur, problems, tests_rows)
            _copy_batch(cur, problems, tests_rows)
        conn.commit()
        return time.perf_counter() - start


def _copy_batch(cur, problems: list, tests_rows: list) -> None:
    # One COPY at a time per connection: problems first, then their tests.
    with cur.copy("COPY scratch_problem FROM STDIN") as copy:
        for r in problems:
            copy.write_row(r)
    with cur.copy("COPY scratch_test FROM STDIN") as copy:
        for r in tests_rows:
            copy.write_row(r)
    problems.clear()
    tests_rows.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--database", default="microcoder_bench_import")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic_lcb.jsonl"
        size = write_synthetic_file(path, args.n, args.tests)
        print(f"synthetic file: {args.n} problems × {args.tests} tests, {size / 1e6:.1f} MB")
        url = scratch_database(args.database)
        django_setup(url)
        from curation.services import imports

        rss_before = peak_rss_mb()
        run = imports.import_run_create(path=str(path), format_name="livecodebench", source_name="bench")
        with RssSampler() as rss:
            start = time.perf_counter()
            run = imports.import_run_execute(run.pk)
            import_seconds = time.perf_counter() - start
        assert run.created_count == args.n and run.failed_count == 0, run.summary()
        baseline_seconds = copy_baseline(path, url)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database)

    import_rate = args.n / import_seconds
    baseline_rate = args.n / baseline_seconds
    print(f"import (MicroCoder): {import_seconds:.1f} s, {import_rate:,.0f} problems/s, "
          f"peak RSS during import {rss.peak:.0f} MB (process peak {peak_rss_mb():.0f} MB, {rss_before:.0f} MB before)")
    print(f"baseline (bare COPY): {baseline_seconds:.1f} s, {baseline_rate:,.0f} problems/s")
    print(f"ratio import/baseline throughput: {import_rate / baseline_rate:.2f}")
    print(f"targets: >= 2,000 problems/s -> {'met' if import_rate >= 2000 else 'NOT met'}; "
          f"<= 500 MB peak RSS -> {'met' if rss.peak <= 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
