"""axe-core (vendored from npm under tests/browser/vendor) on every page of the workspace: no
serious or critical WCAG 2 A/AA violation. The context bypasses the CSP only so that the test can
inject axe; the pages themselves are unchanged."""
import json
from pathlib import Path

import pytest
from django.urls import reverse

from .conftest import login

pytestmark = pytest.mark.browser
AXE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")


def _violations(page) -> list[dict]:
    page.evaluate(AXE)
    result = page.evaluate(
        "async () => JSON.stringify(await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}}))"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in json.loads(result)["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_or_critical_axe_violations_on_any_page(live_server, browser, make_user, make_problem, settings, tmp_path):
    from curation.models import Export, StageRun, VerificationRun
    from curation.services.review import review_lease_acquire
    from curation.services.snapshots import snapshot_create

    settings.MEDIA_ROOT = str(tmp_path)
    admin = make_user("alma", "admin")
    problems = [make_problem(bucket="hard", tags=["graphs"]) for _ in range(3)]
    snapshot = snapshot_create(name="a11y", user=admin, filters={"bucket": "hard"})
    export = Export.objects.create(snapshot=snapshot, format="canonical-jsonl", status="succeeded", total=3, done=3)
    run = StageRun.objects.create(stage="bulk", step="accept", status="succeeded", params={"action": "accept", "query": ""})
    # A judging run whose limits were weak: its warnings (on the run and the problem page) are checked too.
    weak = {"isolation": "bubblewrap", "resource_limits": "rlimits-only", "seccomp": False}
    verify_run = StageRun.objects.create(stage="verify", status="succeeded", judge_mode=weak)
    VerificationRun.objects.create(problem=problems[1], stage_run=verify_run, outcome="verified", **weak)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        found = {"login": _violations(page)}
        login(page, live_server.url, "alma")
        review_lease_acquire(user=admin, problem_id=problems[0].pk)
        pages = {
            "problems": "/problems/",
            "problem": f"/problems/{problems[1].pk}/",
            "review": "/review/",
            "adjudicate": "/adjudicate/",
            "dashboard": "/dashboard/",
            "pipeline": "/pipeline/",
            "snapshots": "/snapshots/",
            "snapshot": f"/snapshots/{snapshot.pk}/",
            "export": f"/exports/{export.pk}/",
            "job": f"/jobs/{run.pk}/",
            "verify-job": f"/jobs/{verify_run.pk}/",
            "tokens": reverse("accounts:tokens"),
            "calibration": reverse("curation:calibration"),
            "selection": reverse("curation:selection"),
            "evaluations": reverse("evaluations:list"),
            "training": reverse("training_jobs:run_list"),
        }
        for name, path in pages.items():
            response = page.goto(live_server.url + path)
            assert response.status == 200, (name, response.status)
            found[name] = _violations(page)
    finally:
        context.close()
    bad = {name: v for name, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1)
