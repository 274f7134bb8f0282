import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from curation.models import Calibration, DifficultyRubric, ImportRun, PassRateMeasurement, Selection, StageRun

pytestmark = pytest.mark.django_db


def test_dashboard_shows_counts_buckets_calibration_and_jobs(client, users, make_problem):
    import datetime

    easy = [make_problem(bucket="easy", weighted_score=2.0, contest_date=datetime.date(2024, 1, 3)) for _ in range(4)]
    hard = [make_problem(bucket="hard", weighted_score=8.0) for _ in range(6)]
    selection = Selection.objects.create(name="sel")
    selection.problems.add(easy[0], *hard)
    rubric = DifficultyRubric.objects.create(version="r")
    Calibration.objects.create(version="c1", rubric=rubric, fitted={"x": [1, 5, 9], "y": [0.9, 0.5, 0.1]}, is_active=True)
    PassRateMeasurement.objects.create(problem=hard[0], model="m", samples=8, passes=1)
    StageRun.objects.create(stage="verify", status="running", total=10, done=3)
    client.force_login(users["viewer"])
    response = client.get(reverse("curation:dashboard"))
    assert response.status_code == 200
    data = json.loads(response.context["charts"] and json.dumps(response.context["charts"], default=str))
    assert data["before"]["shares"]["easy"] == pytest.approx(0.4)
    assert data["after"]["shares"]["easy"] == pytest.approx(1 / 7)
    assert data["calibration"]["curve"][1] == {"x": 5.0, "y": 0.5}
    assert data["calibration"]["points"] == [{"x": 8.0, "y": 0.125}]
    assert data["timeline"] == [{"month": "2024-01", "n": 4}]
    assert b'id="dashboard-data"' in response.content and b"chart.umd.min.js" in response.content
    assert b'hx-trigger="every 1s"' in response.content  # a job is running: the jobs panel polls
    partial = client.get(reverse("curation:dashboard"), headers={"HX-Request": "true", "HX-Target": "jobs"})
    assert b"<html" not in partial.content and b"verify" in partial.content


def test_dashboard_without_calibration_or_selection(client, users, make_problem):
    make_problem()
    Calibration.objects.create(version="c0", rubric=DifficultyRubric.objects.create(version="r0"), fitted={})
    client.force_login(users["viewer"])
    response = client.get(reverse("curation:dashboard"))
    assert response.status_code == 200 and response.context["charts"]["calibration"]["curve"] == []
    assert b"every 1s" not in response.content
    # Nothing runs, yet the cards and jobs keep polling (slowly): a job started elsewhere shows up.
    assert b'id="stage-counts" hx-get="/dashboard/" hx-trigger="every 10s"' in response.content
    assert b'hx-trigger="every 5s"' in response.content
    cards = client.get(reverse("curation:dashboard"), headers={"HX-Request": "true", "HX-Target": "stage-counts"})
    assert b"<html" not in cards.content and b'id="stage-counts"' in cards.content and b"Problems" in cards.content
    assert "HX-Request" in cards["Vary"]


def test_stage_buttons_come_from_the_stage_map_and_refuse_unknown_stages(client, users):
    from curation.pipeline import pipeline_page_stages

    client.force_login(users["admin"])
    page = client.get(reverse("curation:pipeline"))
    assert page.status_code == 200
    for stage in pipeline_page_stages():
        assert f'id="stage-{stage.name}"'.encode() in page.content and f"<code>{stage.command}</code>".encode() in page.content
    assert b"queue sandbox" in page.content  # verify declares its queue
    response = client.post(reverse("curation:pipeline_stage"), {"stage": "no-such-stage"}, follow=True)
    assert b"Unknown stage." in response.content
    assert not StageRun.objects.exists()


def test_stage_button_starts_a_stage_on_its_queue(client, users, make_problem, monkeypatch, django_capture_on_commit_callbacks):
    make_problem()  # Process needs problems to act on (an empty store blocks it: tests/ui/test_pipeline_page.py)
    sent = []
    from curation.tasks import stages as stage_tasks

    # The stage's own task (its queue is the router's: tests/test_pipeline.py).
    monkeypatch.setattr(stage_tasks.STAGE_TASKS["process"], "delay", lambda run_id: sent.append(run_id))
    client.force_login(users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("curation:pipeline_stage"), {"stage": "process"})
    run = StageRun.objects.get(stage="process")
    assert response["Location"] == reverse("curation:stage_run_detail", args=[run.pk])
    assert sent == [run.pk]


def test_upload_saves_the_file_and_queues_an_import(client, users, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    monkeypatch.setattr("curation.collect.available_formats", lambda: ["canonical-jsonl"])
    sent = []
    from curation.tasks import imports as import_tasks

    monkeypatch.setattr(import_tasks.import_problems_task, "delay", lambda run_id: sent.append(run_id))
    client.force_login(users["admin"])
    upload = SimpleUploadedFile("../../evil name.jsonl", b'{"id": "x"}\n')
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("curation:pipeline_import"), {"file": upload, "format": "canonical-jsonl"})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("curation:import_run_detail", args=[run.pk])
    saved = list((tmp_path / "uploads").rglob("*.jsonl"))
    assert len(saved) == 1 and saved[0].name == "evil_name.jsonl" and str(saved[0]) == run.file_path
    assert sent == [run.pk]
    job = client.get(reverse("curation:import_run_detail", args=[run.pk]))
    assert job.status_code == 200 and b"every 1s" in job.content


def test_upload_with_unknown_format_is_refused(client, users, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path
    client.force_login(users["admin"])
    response = client.post(reverse("curation:pipeline_import"), {"file": SimpleUploadedFile("a.jsonl", b"{}"), "format": "nope"})
    assert response.status_code == 400 and not ImportRun.objects.exists()
