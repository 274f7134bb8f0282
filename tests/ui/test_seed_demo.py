"""`make run`'s seed step shows the whole product: after `seed_demo` (in-process, on the test
database) the sample is verified in the sandbox, the shipped pass-rate evidence is imported, a
calibration is active and a selection exists, and the dashboard, calibration and selection pages
carry chart data. Re-running it adds nothing."""
import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from curation.judge import bwrap_status
from curation.management.commands import seed_demo
from curation.models import (
    Calibration,
    PassRateMeasurement,
    Problem,
    Selection,
    StageRun,
    VerificationRun,
    VerificationStatus,
)
from curation.services.verification import sandbox_config

pytestmark = pytest.mark.django_db(transaction=True)


def _seed(**kwargs) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **kwargs)
    return out.getvalue()


def _chart(response, element_id: str) -> dict:
    m = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert m, f"no {element_id} on the page"
    return json.loads(m.group(1))


@pytest.mark.skipif(not bwrap_status(sandbox_config())[0], reason="needs a working bubblewrap sandbox")
def test_seed_demo_fills_every_chart(client):
    output = _seed(verify="sync")
    assert "verify: succeeded" in output or "verify: partial" in output, output
    total = Problem.objects.count()
    assert total == 48
    # Verification ran in the sandbox on every sample problem; most references pass.
    assert VerificationRun.objects.values("problem").distinct().count() == total
    assert Problem.objects.filter(verification_status=VerificationStatus.UNVERIFIED).count() == 0
    assert Problem.objects.filter(verification_status=VerificationStatus.VERIFIED).count() >= 30
    # The shipped graded file, matched to the sample: one measurement per graded list.
    graded = [json.loads(line) for line in seed_demo.GRADED_FILE.read_text().splitlines()]
    measurements = PassRateMeasurement.objects.filter(model=seed_demo.GRADED_MODEL, origin="imported")
    assert measurements.count() == len(graded) >= 30
    assert {m.passes for m in measurements} != {measurements[0].passes}  # not one constant rate
    active = Calibration.objects.get(is_active=True)
    assert active.n_points >= 30
    selection = Selection.objects.get(name=seed_demo.DEMO_SELECTION)
    # The policy saw every candidate; which it keeps follows the evidence (with the shipped
    # stand-in no problem is calibrated "easy", so the 20%-easy target drops none).
    assert selection.preview["total"] == total and 0 < selection.problems.count() <= total
    assert Problem.objects.filter(bucket__in=["easy", "medium", "hard"]).count() == total

    # Idempotent: a second run adds no measurement, calibration, selection or verify run.
    counts = (PassRateMeasurement.objects.count(), Calibration.objects.count(), Selection.objects.count(),
              StageRun.objects.filter(stage="verify").count())
    again = _seed(verify="queue")
    assert "already imported" in again and "every sample problem has been verified" in again
    assert counts == (PassRateMeasurement.objects.count(), Calibration.objects.count(), Selection.objects.count(),
                      StageRun.objects.filter(stage="verify").count())

    assert client.login(username="curator", password="microcoder-demo")
    dashboard = _chart(client.get(reverse("curation:dashboard")), "dashboard-data")
    assert len(dashboard["calibration"]["points"]) == len(graded)
    assert dashboard["calibration"]["curve"]
    assert dashboard["selection"]["name"] == seed_demo.DEMO_SELECTION
    assert dashboard["after"]["total"] == selection.problems.count() and dashboard["before"]["total"] == total
    calibration = _chart(client.get(reverse("curation:calibration")), "wb-data")
    assert calibration["points"] and calibration["curve"]
    page = client.get(reverse("curation:selection"))
    assert page.status_code == 200
    chart = _chart(page, "sel-data")
    assert sum(b["before"] for b in chart["by_bucket"].values()) == total
    assert sum(b["after"] for b in chart["by_bucket"].values()) > 0


def test_seed_demo_queues_verification_for_the_worker(django_capture_on_commit_callbacks, monkeypatch):
    """The default: `make run` is not held up by judging; a verify run waits for the worker (the
    dashboard's Jobs table shows it), and a second seed does not queue another."""
    monkeypatch.setattr(seed_demo, "sandbox_usable", lambda: (True, "ok"))
    sent = []
    monkeypatch.setattr("curation.tasks.stages.STAGE_TASKS", {"verify": type("T", (), {"delay": staticmethod(sent.append)})})
    output = _seed()
    run = StageRun.objects.get(stage="verify")
    assert run.status == "pending" and len(run.params["problem_ids"]) == 48
    assert sent == [run.pk]
    assert f"run #{run.pk} queued for 48 problems" in output
    assert "already pending" in _seed()
    assert StageRun.objects.filter(stage="verify").count() == 1


def test_without_bubblewrap_seed_demo_and_dashboard_say_so(client, monkeypatch):
    monkeypatch.setattr(seed_demo, "sandbox_usable", lambda: (False, "bwrap not found"))
    monkeypatch.setattr("curation.judge.bwrap_status", lambda config=None: (False, "bwrap not found"))
    output = _seed()
    assert "verify: SKIPPED, the bubblewrap sandbox does not work here (bwrap not found)" in output
    assert not StageRun.objects.filter(stage="verify").exists()
    assert Calibration.objects.filter(is_active=True).exists()  # the rest of the demo still runs
    assert client.login(username="curator", password="microcoder-demo")
    page = client.get(reverse("curation:dashboard")).content.decode()
    assert 'id="sandbox-problem"' in page and "bwrap not found" in page
