"""Server time of the Pipeline page at 100,000 problems, against the bare counts it is built from.

    .venv/bin/python benchmarks/pipeline_page.py                  # fresh database microcoder_bench_pipeline
    .venv/bin/python benchmarks/pipeline_page.py --n 20000 --runs 20
    .venv/bin/python benchmarks/pipeline_page.py --reuse          # keep an already seeded database

Seeds `--n` problems the way `ui_latency.py` does (its `seed`), pass-rate evidence for 10,000 of
them (its `seed_evidence`) and a partial verify run with 1,000 problem errors, then times
in-process with Django's test Client (full middleware, session auth, templates):

* GET /pipeline/ (every panel: counts, prerequisites, last runs, the pass-rate form);
* the htmx count for new options (GET /pipeline/touch/?stage=measure&sample_size=…);
* the partial run's page (errors grouped by reason, problems linked).

Baseline: the store counts the panels show (`StoreFacts`: a dozen COUNTs) run directly through
the ORM, with no view, template or middleware. Prints p50/p95 per scenario and the ratio
p95(view) / p95(baseline). Target: p95 ≤ 300 ms for the page, ≤ 150 ms for the htmx count.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ADMIN_URL, REPO_ROOT, scratch_database  # noqa: E402
from ui_latency import percentile, seed, seed_evidence, time_calls  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--db", default="microcoder_bench_pipeline")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("TLS", "0")
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + args.db if args.reuse else scratch_database(args.db)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "microcoder_site.settings")
    sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    from curation import pipeline_selectors
    from curation.models import PassRateMeasurement, Problem, StageRun
    from curation.services.accounts import roles_ensure
    from curation.services.runs import ProblemFailures, run_finish, run_start

    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    call_command("migrate", verbosity=0)
    if Problem.objects.count() < args.n:
        Problem.objects.all().delete()
        seed(args.n)
    if not PassRateMeasurement.objects.exists():
        seed_evidence(min(10_000, args.n))
    run = StageRun.objects.filter(stage="verify", status="partial").first()
    if run is None:
        run = StageRun.objects.create(stage="verify")
        run_start(run, total=args.n)
        failures = ProblemFailures(run, "verify")
        ids = list(Problem.objects.order_by("pk").values_list("pk", flat=True)[:1000])
        for i, pid in enumerate(ids):
            failures.record(pid, "IntegrityError: UNIQUE constraint failed" if i % 2 else f"reference crashed on test {i % 7}")
        run.counts = {"verified": args.n - 1000, "failed": failures.failed}
        run.save(update_fields=["counts"])
        run_finish(run)
    roles_ensure()
    user, _ = get_user_model().objects.get_or_create(username="bench-admin")
    user.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(user)

    def facts():
        f = pipeline_selectors.StoreFacts()
        for name in ("total", "unverified", "verified", "processed", "checker_candidates", "scored", "measured",
                     "calibration_points", "calibrated", "select_candidates", "active_calibration", "features_model"):
            getattr(f, name)

    def get(path, **headers):
        def call():
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
        return call

    base = time_calls(facts, args.runs)
    rows = []
    for name, fn in [
        ("pipeline page", get("/pipeline/")),
        ("htmx count (measure, new sample size)", get("/pipeline/touch/?stage=measure&sample_size=500&k=4", **{"HX-Request": "true"})),
        ("partial run page (1,000 errors)", get(f"/jobs/{run.pk}/")),
    ]:
        times = time_calls(fn, args.runs)
        rows.append({"scenario": name, "p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1),
                     "baseline_p95_ms": round(percentile(base, 0.95), 1),
                     "ratio": round(percentile(times, 0.95) / max(percentile(base, 0.95), 1e-6), 2)})
    print(f"problems: {Problem.objects.count():,}; baseline (StoreFacts counts) p50 {statistics.median(base):.1f} ms, "
          f"p95 {percentile(base, 0.95):.1f} ms")
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
