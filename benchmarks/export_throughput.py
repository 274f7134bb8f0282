#!/usr/bin/env python
"""Export throughput: N problems × T tests in PostgreSQL → one snapshot → JSONL and Parquet files.

Seeds a scratch database with COPY, freezes a snapshot of every problem (`snapshot_create`), then
runs the real export job body (`export_execute`: batched iteration over snapshot items, pure writer,
progress on the row, sha256) for `canonical-jsonl` and `parquet`. For each it prints seconds,
MB/s, problems/s and the RSS growth sampled during the export, beside a baseline measured in the
same run: a bare `COPY (SELECT data FROM curation_snapshotitem ...) TO STDOUT` of the same rows
into a file (psycopg `cursor.copy`), and the ratio.

    .venv/bin/python benchmarks/export_throughput.py [--n 100000] [--tests 10] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RssSampler, django_setup, drop_database, peak_rss_mb, rss_mb, scratch_database  # noqa: E402

WORDS = "array tree graph query string integer sum maximum minimum path edge vertex prefix suffix modulo".split()


def seed(database_url: str, n: int, tests: int) -> float:
    """Problems and tests with COPY, every NOT NULL column filled the way Django would."""
    import psycopg
    from django.db import connection

    from curation.models import Problem, Source, TestCase

    source = Source.objects.create(name="bench", license="CC-BY-4.0")
    connection.close()
    rng = random.Random(7)
    p_fields = [f for f in Problem._meta.concrete_fields if not f.primary_key]
    t_fields = [f for f in TestCase._meta.concrete_fields if not f.primary_key]

    from django.utils import timezone

    now = timezone.now()

    def db_value(field, value):
        if value is None and getattr(field, "auto_now", False):
            return now
        if field.get_internal_type() == "JSONField":
            return json.dumps(value)
        return value

    start = time.perf_counter()
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn, conn.cursor() as cur:
        p_cols = ", ".join(f.column for f in p_fields)
        with cur.copy(f"COPY {Problem._meta.db_table} ({p_cols}) FROM STDIN") as copy:
            for i in range(n):
                statement = " ".join(rng.choice(WORDS) for _ in range(120))
                values = {
                    "source": source.pk, "external_id": f"bench{i:06d}", "platform": ("codeforces", "atcoder", "leetcode")[i % 3],
                    "contest_id": str(i // 6), "problem_index": "ABCDEF"[i % 6],
                    "contest_date": f"202{i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    "title": f"Bench problem {i}", "statement": f"Given an {statement}.\n\nInput\n...\n\nOutput\n...",
                    "format_instruction": "Read from standard input and write to standard output.",
                    "content_hash": f"{i:064x}", "bucket": ("easy", "medium", "hard")[i % 3],
                    "weighted_score": round(rng.uniform(1, 10), 2), "calibrated_pass_rate": round(rng.random(), 3),
                    **{f"score_{d}": rng.randint(1, 10) for d in ("algorithmic_thinking", "implementation", "mathematics", "data_structures", "edge_cases")},
                    "comparison": {"mode": "tokens"}, "review_status": "accepted", "verification_status": "verified",
                }
                row = []
                for f in p_fields:
                    key = f.name
                    row.append(db_value(f, values[key] if key in values else f.get_default()))
                copy.write_row(row)
        conn.commit()
        ids = [r[0] for r in cur.execute(f"SELECT id FROM {Problem._meta.db_table} ORDER BY id")]
        t_cols = ", ".join(f.column for f in t_fields)
        with cur.copy(f"COPY {TestCase._meta.db_table} ({t_cols}) FROM STDIN") as copy:
            for pid in ids:
                for k in range(tests):
                    nums = " ".join(str(rng.randint(1, 10**9)) for _ in range(rng.randint(3, 12)))
                    inp, out = f"{len(nums.split())}\n{nums}\n", f"{rng.randint(0, 10**9)}\n"
                    values = {"problem": pid, "ordinal": k, "input": inp, "output": out, "kind": "sample" if k < 2 else "hidden",
                              "size_bytes": len(inp) + len(out), "is_training": True}
                    copy.write_row([db_value(f, values[f.name] if f.name in values else f.get_default()) for f in t_fields])
        conn.commit()
        cur.execute("ANALYZE")
    return time.perf_counter() - start


def copy_baseline(database_url: str, snapshot_id: int, out: Path) -> tuple[float, int]:
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn, conn.cursor() as cur, out.open("wb") as fh:
        query = f"COPY (SELECT data FROM curation_snapshotitem WHERE snapshot_id = {int(snapshot_id)} ORDER BY ordinal) TO STDOUT"
        with cur.copy(query) as copy:
            for block in copy:
                fh.write(block)
    return time.perf_counter() - start, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database", default="microcoder_bench_export")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    # Production-like: DEBUG off, or Django keeps every SQL statement in memory.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "benchmark-only")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MEDIA_ROOT"] = str(Path(tmp) / "media")
        url = scratch_database(args.database)
        django_setup(url)
        from django.conf import settings
        from django.db import connections

        from curation.services.exports import export_create, export_execute
        from curation.services.snapshots import snapshot_create

        settings.MEDIA_ROOT = os.environ["MEDIA_ROOT"]
        seed_s = seed(url, args.n, args.tests)
        print(f"seeded {args.n:,} problems × {args.tests} tests with COPY in {seed_s:.1f} s")

        with RssSampler() as rss_snap:
            start = time.perf_counter()
            snapshot = snapshot_create(name="bench", user=None)
            snap_s = time.perf_counter() - start
        assert snapshot.problem_count == args.n
        print(f"snapshot_create: {snap_s:.1f} s, {args.n / snap_s:,.0f} problems/s, "
              f"RSS {rss_snap.start_rss:.0f} → peak {rss_snap.peak:.0f} MB (+{rss_snap.peak - rss_snap.start_rss:.0f} MB)")

        base_s, base_bytes = copy_baseline(url, snapshot.pk, Path(tmp) / "baseline.copy")
        base_mbps = base_bytes / 1e6 / base_s
        print(f"baseline bare COPY TO STDOUT of the same rows: {base_s:.1f} s, {base_bytes / 1e6:.0f} MB, "
              f"{base_mbps:.0f} MB/s, {args.n / base_s:,.0f} problems/s")

        results = []
        for fmt in ("canonical-jsonl", "parquet"):
            export = export_create(snapshot=snapshot, format=fmt, user=None, options={"batch_size": args.batch_size})
            with RssSampler() as rss:
                start = time.perf_counter()
                export = export_execute(export.pk)
                seconds = time.perf_counter() - start
            assert export.status == "succeeded", export.message
            mbps = export.size_bytes / 1e6 / seconds
            growth = rss.peak - rss.start_rss
            results.append((fmt, growth))
            print(f"export {fmt}: {seconds:.1f} s, {export.size_bytes / 1e6:.0f} MB, {mbps:.0f} MB/s, "
                  f"{args.n / seconds:,.0f} problems/s; RSS {rss.start_rss:.0f} → peak {rss.peak:.0f} MB "
                  f"(+{growth:.0f} MB); time ratio export/baseline {seconds / base_s:.1f}×, "
                  f"problems/s ratio {base_s / seconds:.2f}")
        print(f"process peak RSS (getrusage maxrss, includes seeding and snapshot): {peak_rss_mb():.0f} MB; now {rss_mb():.0f} MB")
        flat = all(g <= 300 for _, g in results)
        print(f"target: RSS growth during each export <= 300 MB -> {'met' if flat else 'NOT met'}")
        connections.close_all()
        if not args.keep:
            drop_database(args.database)


if __name__ == "__main__":
    main()
