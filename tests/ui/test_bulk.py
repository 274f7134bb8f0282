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
    client.force_login(users["adjudicator"])
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
    client.force_login(users["adjudicator"])
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
        bulk_action_start(user=users["adjudicator"], action="reject", query="bucket=easy")
    run = bulk_action_start(user=users["adjudicator"], action="reject", query="bucket=easy", reason="too easy")
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
        bulk_action_start(user=users["viewer"], action="reverify", query="")
    with pytest.raises(BulkActionError, match="not valid"):
        bulk_action_start(user=users["adjudicator"], action="accept", query="bucket=nonsense")
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


# --- Governance: who may, conflicts, picked rows, undo ------------------------------------------


def test_a_curator_cannot_bulk_accept_or_reject_and_is_not_offered_them(client, users, problems, settings):
    for action in ("accept", "reject"):
        with pytest.raises(BulkActionError, match="adjudicator role"):
            bulk_action_start(user=users["curator"], action=action, query="", reason="x")
    client.force_login(users["curator"])
    page = client.get(reverse("curation:problem_list"))
    assert set(page.context["bulk_actions"]) == {"reverify", "repredict", "add_to_selection"}
    assert b'value="accept"' not in page.content
    response = client.post(reverse("curation:bulk_action"), {"action": "accept", "query": ""}, follow=True)
    assert b"needs the adjudicator role" in response.content and not StageRun.objects.exists()
    # The role is a setting.
    settings.BULK_REVIEW_ROLE = "curator"
    assert "accept" in bulk.bulk_actions_for_user(users["curator"])


def test_conflicts_are_listed_and_left_alone_unless_included(client, users, problems, make_problem):
    from curation.models import Review

    hard, _ = problems
    reviewed = hard[0]
    Review.objects.create(problem=reviewed, reviewer=users["curator2"], decision="reject", reason="bad tests", problem_version=1)
    Problem.objects.filter(pk=reviewed.pk).update(review_status="rejected")
    in_adjudication = hard[1]
    Problem.objects.filter(pk=in_adjudication.pk).update(review_status="needs_adjudication")
    client.force_login(users["adjudicator"])
    response = client.post(reverse("curation:bulk_action"), {"action": "accept", "query": "bucket=hard"})
    assert response.context["count"] == 60 and response.context["conflict_count"] == 2
    assert response.context["acting_on"] == 58
    assert b"curator2: reject" in response.content and b'id="bulk-conflicts"' in response.content
    # Nothing destructive has the focus: the cancel link does, the confirm button has no autofocus.
    html = response.content.decode()
    assert 'id="bulk-cancel" class="button" autofocus' in html
    assert "autofocus" not in html.split('id="bulk-confirm"')[1].split(">")[0]
    run = bulk_action_start(user=users["adjudicator"], action="accept", query="bucket=hard")
    assert run.total == 58
    bulk_action_execute(run.pk)
    run.refresh_from_db()
    assert run.counts == {"problems": 58, "skipped_conflicts": 2}
    assert Problem.objects.get(pk=reviewed.pk).review_status == "rejected"
    assert Problem.objects.get(pk=in_adjudication.pk).review_status == "needs_adjudication"
    # Explicitly included: they are overridden too.
    run = bulk_action_start(user=users["adjudicator"], action="accept", query="bucket=hard", include_conflicts=True)
    bulk_action_execute(run.pk)
    assert Problem.objects.get(pk=reviewed.pk).review_status == "accepted"


def test_picked_rows_narrow_the_scope(client, users, problems):
    hard, easy = problems
    client.force_login(users["adjudicator"])
    picked = [hard[3].pk, hard[4].pk, easy[0].pk]  # easy[0] is outside the filter: never touched
    response = client.post(
        reverse("curation:bulk_action"), {"action": "accept", "query": "bucket=hard", "scope": "picked", "ids": picked}
    )
    assert response.context["count"] == 2 and response.context["picked"]
    none_picked = client.post(reverse("curation:bulk_action"), {"action": "accept", "query": "", "scope": "picked"}, follow=True)
    assert b"No rows are picked" in none_picked.content
    run = bulk_action_start(user=users["adjudicator"], action="accept", query="bucket=hard", ids=picked)
    bulk_action_execute(run.pk)
    assert set(Problem.objects.filter(review_status="accepted").values_list("pk", flat=True)) == {hard[3].pk, hard[4].pk}
    with pytest.raises(BulkActionError, match="not problem ids"):
        bulk_action_start(user=users["adjudicator"], action="accept", query="", ids=["x"])


def test_undo_restores_what_the_bulk_run_replaced_except_later_changes(client, users, problems):
    hard, _ = problems
    Problem.objects.filter(pk=hard[0].pk).update(review_status="in_review")
    run = bulk_action_start(user=users["adjudicator"], action="reject", query="bucket=hard", reason="dupes", include_conflicts=True)
    bulk_action_execute(run.pk)
    run.refresh_from_db()
    assert Problem.objects.filter(review_status="rejected").count() == 60
    # Someone changes one problem after the bulk run: undo leaves it as it is and says so.
    changed = Problem.objects.get(pk=hard[5].pk)
    Problem.objects.filter(pk=changed.pk).update(review_status="accepted", version=changed.version + 1)
    with pytest.raises(BulkActionError, match="adjudicator"):
        bulk.bulk_undo_start(user=users["curator"], run_id=run.pk)
    client.force_login(users["adjudicator"])
    job = client.get(reverse("curation:stage_run_detail", args=[run.pk]))
    assert b'id="undo-button"' in job.content
    response = client.post(reverse("curation:bulk_undo", args=[run.pk]))
    undo = StageRun.objects.get(step="undo")
    assert response.status_code == 302 and response["Location"] == reverse("curation:stage_run_detail", args=[undo.pk])
    assert AuditEvent.objects.filter(action="bulk_undo_start", target_id=str(undo.pk)).count() == 1
    bulk_action_execute(undo.pk)
    undo.refresh_from_db()
    assert undo.status == "partial" and undo.counts["undone"] == 59 and undo.counts["left_as_is"] == 1
    assert "problem %d" % changed.pk in undo.errors[0]["record"]
    assert Problem.objects.get(pk=hard[0].pk).review_status == "in_review"
    assert Problem.objects.filter(bucket="hard", review_status="unreviewed").count() == 58
    assert Problem.objects.get(pk=changed.pk).review_status == "accepted"
    # Once undone, never twice.
    with pytest.raises(BulkActionError, match="already been undone"):
        bulk.bulk_undo_start(user=users["adjudicator"], run_id=run.pk)
    assert b'id="undo-blocked"' in client.get(reverse("curation:stage_run_detail", args=[run.pk])).content


def test_undo_of_add_to_selection_removes_only_what_it_added(users, problems):
    hard, _ = problems
    selection = Selection.objects.create(name="mine", policy={"manual": True})
    selection.problems.add(hard[0])
    run = bulk_action_start(user=users["curator"], action="add_to_selection", query="bucket=hard", selection_id=selection.pk)
    bulk_action_execute(run.pk)
    assert selection.problems.count() == 60
    undo = bulk.bulk_undo_start(user=users["curator"], run_id=run.pk)
    bulk_action_execute(undo.pk)
    assert list(selection.problems.values_list("pk", flat=True)) == [hard[0].pk]
    reverify = StageRun.objects.create(stage="bulk", step="reverify", status="succeeded")
    with pytest.raises(BulkActionError, match="only accept, reject"):
        bulk.bulk_undo_start(user=users["curator"], run_id=reverify.pk)
