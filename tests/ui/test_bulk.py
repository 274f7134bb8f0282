import pytest
from django.urls import reverse

from curation.models import AuditEvent, Problem, Selection, StageRun
from curation.services import bulk
from curation.services.bulk import BulkActionError, bulk_action_execute, bulk_action_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def problems(make_problem):
    hard = [make_problem(bucket="hard") for _ in range(60)]  # more than a page of 50
    easy = [make_problem(bucket="easy") for _ in range(5)]
    return hard, easy


def test_confirm_step_shows_the_count_of_everything_matched(client, users, problems):
    client.force_login(users["curator"])
    response = client.post(reverse("curation:bulk_action"), {"action": "accept", "query": "bucket=hard"})
    assert response.status_code == 200
    assert response.context["count"] == 60
    assert b"Accept 60 problems?" in response.content
    assert not StageRun.objects.exists()  # nothing happens before confirming


def test_confirmed_bulk_accept_runs_as_a_job(client, users, problems, django_capture_on_commit_callbacks, monkeypatch):
    hard, easy = problems
    dispatched = []
    from curation.tasks import bulk as bulk_tasks

    # The queue is the stage map's (tests/test_pipeline.py checks the routing).
    monkeypatch.setattr(bulk_tasks.bulk_action_task, "delay", lambda run_id: dispatched.append(run_id))
    client.force_login(users["curator"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("curation:bulk_action"), {"action": "accept", "query": "bucket=hard", "confirmed": "on"})
    run = StageRun.objects.get(stage="bulk")
    assert response.status_code == 302 and response["Location"] == reverse("curation:stage_run_detail", args=[run.pk])
    assert dispatched == [run.pk]
    assert run.status == "pending" and run.total == 60 and run.params["action"] == "accept"
    assert AuditEvent.objects.filter(action="bulk_accept_start", target_id=str(run.pk)).exists()
    # The job page polls while the job runs.
    page = client.get(reverse("curation:stage_run_detail", args=[run.pk]))
    assert b'hx-trigger="every 1s"' in page.content and b"<progress" in page.content
    bulk_action_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.done == 60 and run.progress == 1.0
    assert Problem.objects.filter(bucket="hard", review_status="accepted").count() == 60
    assert Problem.objects.filter(bucket="easy", review_status="accepted").count() == 0
    assert Problem.objects.get(pk=hard[0].pk).version == 2
    assert AuditEvent.objects.filter(action="bulk_accept", target_type="Problem").count() == 60
    # Finished: the partial no longer polls.
    partial = client.get(reverse("curation:stage_run_detail", args=[run.pk]), headers={"HX-Request": "true", "HX-Target": f"job-{run.pk}"})
    assert b"every 1s" not in partial.content and b"Succeeded" in partial.content and b"<html" not in partial.content


def test_bulk_reject_needs_a_reason_and_add_to_selection(users, problems):
    with pytest.raises(BulkActionError):
        bulk_action_start(user=users["curator"], action="reject", query="bucket=easy")
    run = bulk_action_start(user=users["curator"], action="reject", query="bucket=easy", reason="too easy")
    bulk_action_execute(run.pk)
    assert Problem.objects.filter(review_status="rejected").count() == 5
    run = bulk_action_start(user=users["curator"], action="add_to_selection", query="bucket=hard", selection_name="hard set")
    bulk_action_execute(run.pk)
    selection = Selection.objects.get(name="hard set")
    assert selection.problems.count() == 60
    # Idempotent: running the same job row again changes nothing.
    StageRun.objects.filter(pk=run.pk).update(status="running")
    bulk_action_execute(run.pk)
    assert selection.problems.count() == 60


def test_bulk_refuses_viewers_invalid_filters_and_missing_stages(client, users, problems, monkeypatch):
    with pytest.raises(BulkActionError, match="curator"):
        bulk_action_start(user=users["viewer"], action="accept", query="")
    with pytest.raises(BulkActionError, match="not valid"):
        bulk_action_start(user=users["curator"], action="accept", query="bucket=nonsense")
    monkeypatch.setattr("curation.services.stages.available_stages", lambda: [])
    with pytest.raises(BulkActionError, match="not available"):
        bulk_action_start(user=users["curator"], action="reverify", query="")
    client.force_login(users["curator"])
    response = client.post(reverse("curation:bulk_action"), {"action": "repredict", "query": "bucket=hard"}, follow=True)
    assert b"not available yet" in response.content
    assert not StageRun.objects.exists()


def test_bulk_reverify_starts_the_verify_stage_for_the_matched_ids(users, problems, monkeypatch):
    hard, _ = problems
    started = {}
    monkeypatch.setattr("curation.services.stages.available_stages", lambda: ["verify", "predict"])

    def fake_start(*, stage, user, problem_ids, params):
        started.update(stage=stage, ids=problem_ids, params=params)
        return StageRun.objects.create(stage=stage, params=params)

    monkeypatch.setattr("curation.services.stages.stage_run_start", fake_start)
    run = bulk_action_start(user=users["curator"], action="reverify", query="bucket=hard")
    bulk_action_execute(run.pk)
    run.refresh_from_db()
    assert started["stage"] == "verify" and started["ids"] == [p.pk for p in hard]
    assert run.status == "succeeded" and run.counts["child_run"]
