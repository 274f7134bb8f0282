#!/usr/bin/env python3
"""Verification outcomes on the shared Codeforces set before and after checker synthesis.

Not a speed benchmark: it measures how many of the 383 problems of ../shared/data/codecontests
verify before and after checkers, with the OpenAI-protocol test server standing in for an LLM
(tests/fixtures/checkers.py: hand-written correct checkers for three real "print any" problems,
a lenient accept-anything checker for every other problem — which the sandbox mutation test must
reject). Every step is the project's own command, on a scratch SQLite database:

    import_problems → process_problems (normalize, samples, tests) → verify_problems   (before)
    synthesize_checkers --approve-valid (needs_checker + tests_inconsistent problems)
    verify_problems --problem-ids <every problem synthesis looked at>                     (after)

    .venv/bin/python benchmarks/checker_outcomes.py                    # scratch database in /tmp
    .venv/bin/python benchmarks/checker_outcomes.py --db PATH --reuse  # skip to synthesis when PATH
                                                                       # already holds the "before" run
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="", help="SQLite file (default: a new one in a temporary folder)")
    ap.add_argument("--reuse", action="store_true", help="the database already holds the imported, verified set")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "codecontests"))
    ap.add_argument("--parallel", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="checker_outcomes_"))
    db = Path(args.db) if args.db else work / "db.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("MICROCODER_VAR_DIR", str(work))
    os.environ.setdefault("DEBUG", "1")  # a scratch development database, not a deployment
    os.environ["DJANGO_SETTINGS_MODULE"] = "microcoder_site.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from curation.models import CheckerCandidate, Problem
    from tests.fixtures.checkers import LENIENT, REAL_GOOD
    from tests.fixtures.openai_server import OpenAITestServer

    def cmd(*argv) -> dict:
        out = StringIO()
        t0 = time.monotonic()
        call_command(*argv, stdout=out)
        text = out.getvalue()
        print(f"  {' '.join(map(str, argv))}  ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
        return json.loads(text) if "--json" in argv else {}

    def outcomes() -> collections.Counter:
        return collections.Counter(Problem.objects.values_list("verification_status", flat=True))

    call_command("migrate", verbosity=0)
    if not args.reuse:
        cmd("import_problems", args.data, "--format", "codecontests-dir", "--sync")
        for step in ("normalize", "samples", "tests"):
            cmd("process_problems", "--sync", "--step", step)
        cmd("verify_problems", "--sync", "--json", "--parallel", str(args.parallel))
    before = outcomes()

    with OpenAITestServer(solutions=REAL_GOOD, default_solution=LENIENT) as server:
        from django.conf import settings

        settings.LLM_BASE_URL, settings.LLM_MODEL, settings.LLM_API_KEY = server.url, "stand-in", "x"
        synth = cmd("synthesize_checkers", "--sync", "--json", "--approve-valid")
    # Re-verify every problem synthesis looked at: those with an approved checker, and the rest
    # under the current classification (the wording detection now lives in checker_synthesis).
    candidates = list(CheckerCandidate.objects.values_list("problem_id", flat=True).distinct())
    if candidates:
        cmd("verify_problems", "--sync", "--json", "--problem-ids", ",".join(map(str, candidates)),
            "--parallel", str(args.parallel))
    after = outcomes()

    rejected = collections.Counter(
        r.split(":")[0] for r in CheckerCandidate.objects.filter(status="rejected").values_list("reason", flat=True))
    print(f"database: {db}")
    print(f"checker candidates: {synth.get('counts')}  (rejected because: {dict(rejected)})")
    print(f"{'outcome':<22}{'before':>8}{'after':>8}")
    for key in sorted(set(before) | set(after)):
        print(f"{key:<22}{before[key]:>8}{after[key]:>8}")
    print(f"{'total':<22}{sum(before.values()):>8}{sum(after.values()):>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
