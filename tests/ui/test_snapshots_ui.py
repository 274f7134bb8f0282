"""Snapshots and exports in the browser views: a background job with progress, created from a
filter, saved view or selection; manifest, diff, export with progress, download. And the nav
showing only what a role may open."""
import pytest
from django.urls import reverse

from curation.models import AuditEvent, DatasetSnapshot, Export, SavedView, Selection, StageRun
from curation.services import snapshot_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(monkeypatch):
    from curation.tasks import snapshots as snapshot_tasks

    sent = []
    monkeypatch.setattr(snapshot_tasks.snapshot_job_task, "delay", lambda run_id: sent.append(run_id))
    return sent


def test_snapshot_from_a_filter_is_a_background_job_with_progress(client, users, make_problem, dispatched, django_capture_on_commit_callbacks):
    for _ in range(3):
        make_problem(bucket="hard")
    make_problem(bucket="easy")
    client.force_login(users["curator"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("curation:snapshot_create"), {"name": "hard-set", "query": "bucket=hard&page=2"})
    run = StageRun.objects.get(stage="snapshot")
    assert response.status_code == 302 and response["Location"] == reverse("curation:stage_run_detail", args=[run.pk])
    assert dispatched == [run.pk] and run.status == "pending" and run.total == 3
    assert run.params["filters"] == {"bucket": "hard"}  # paging dropped
    assert not DatasetSnapshot.objects.exists()  # nothing is frozen inside the request
    assert AuditEvent.objects.filter(action="snapshot_job_start", target_id=str(run.pk)).count() == 1
    seen = []
    original = snapshot_jobs.cache.set
    snapshot_jobs.cache.set = lambda key, value, ttl: (seen.append(value), original(key, value, ttl))
    try:
        snapshot_jobs.snapshot_job_execute(run.pk)
    finally:
        snapshot_jobs.cache.set = original
    run.refresh_from_db()
    snapshot = DatasetSnapshot.objects.get(name="hard-set")
    assert seen == [3] and run.status == "succeeded" and run.done == 3 and run.counts["snapshot"] == snapshot.pk
    page = client.get(reverse("curation:stage_run_detail", args=[run.pk]))
    assert b'id="job-snapshot"' in page.content
    # Rerunning the finished row makes no second snapshot.
    snapshot_jobs.snapshot_job_execute(run.pk)
    assert DatasetSnapshot.objects.count() == 1


def test_running_job_reads_progress_from_the_cache(client, users, make_problem, dispatched):
    from django.core.cache import cache

    make_problem()
    run = snapshot_jobs.snapshot_job_start(user=users["curator"], name="s")
    StageRun.objects.filter(pk=run.pk).update(status="running")
    cache.set(snapshot_jobs.progress_key(run.pk), 1, 60)
    client.force_login(users["viewer"])
    page = client.get(reverse("curation:stage_run_detail", args=[run.pk]))
    assert page.context["run"].done == 1 and b'hx-trigger="every 1s"' in page.content


def test_snapshot_from_a_saved_view_or_selection_and_bad_criteria(client, users, make_problem, dispatched):
    a, b, c = make_problem(bucket="hard"), make_problem(bucket="hard"), make_problem(bucket="easy")
    view = SavedView.objects.create(user=users["curator"], name="easy", query="bucket=easy")
    selection = Selection.objects.create(name="pick", policy={"manual": True})
    selection.problems.add(a, c)
    client.force_login(users["curator"])
    client.post(reverse("curation:snapshot_create"), {"name": "from-view", "saved_view": view.pk})
    assert StageRun.objects.get(params__name="from-view").total == 1
    client.post(reverse("curation:snapshot_create"), {"name": "from-selection", "selection": selection.pk})
    assert StageRun.objects.get(params__name="from-selection").total == 2
    response = client.post(reverse("curation:snapshot_create"), {"name": "bad", "query": "bucket=nonsense"}, follow=True)
    assert b"filters.bucket" in response.content and not StageRun.objects.filter(params__name="bad").exists()
    response = client.post(reverse("curation:snapshot_create"), {"name": "", "query": ""}, follow=True)
    assert b"name: required" in response.content
    client.force_login(users["viewer"])
    assert client.post(reverse("curation:snapshot_create"), {"name": "x"}).status_code == 403


def test_manifest_diff_export_progress_and_download(client, users, make_problem, settings, tmp_path, django_capture_on_commit_callbacks, monkeypatch):
    from curation.services.exports import export_execute
    from curation.services.snapshots import snapshot_create
    from curation.tasks import exports as export_tasks

    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr(export_tasks.export_run_task, "delay", lambda export_id: None)
    p1, p2 = make_problem(bucket="hard"), make_problem(bucket="hard")
    first = snapshot_create(name="ds", user=users["curator"], filters={"bucket": "hard"})
    make_problem(bucket="hard")
    second = snapshot_create(name="ds", user=users["curator"], filters={"bucket": "hard"})
    client.force_login(users["curator"])
    page = client.get(reverse("curation:snapshot_detail", args=[first.pk]), {"other": second.pk})
    html = page.content.decode()
    assert first.content_hash in html and 'id="manifest"' in html
    assert page.context["diff"]["added"] and len(page.context["diff"]["added"]) == 1 and "1</strong> added" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("curation:export_create", args=[second.pk]), {"format": "canonical-jsonl"})
    export = Export.objects.get()
    assert response["Location"] == reverse("curation:export_detail", args=[export.pk])
    pending = client.get(reverse("curation:export_detail", args=[export.pk]))
    assert b'hx-trigger="every 1s"' in pending.content and b"export-download" not in pending.content
    export_execute(export.pk)
    partial = client.get(
        reverse("curation:export_detail", args=[export.pk]), headers={"HX-Request": "true", "HX-Target": f"export-{export.pk}"}
    )
    assert b"every 1s" not in partial.content and b'id="export-download"' in partial.content and b"<html" not in partial.content
    download = client.get(reverse("api-export-download", args=[export.pk]))
    body = b"".join(download.streaming_content)
    assert download.status_code == 200 and body.count(b"\n") == 3
    bad = client.post(reverse("curation:export_create", args=[second.pk]), {"format": "nope"}, follow=True)
    assert b"Export not started" in bad.content


def test_nav_links_only_for_what_the_role_may_open(client, users):
    client.force_login(users["viewer"])
    html = client.get(reverse("curation:problem_list")).content.decode()
    nav = html.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert "/review/" not in nav and "/adjudicate/" not in nav and "/pipeline/" not in nav and "/snapshots/" in nav
    assert 'id="snapshot-form"' not in client.get(reverse("curation:snapshot_list")).content.decode()
    client.force_login(users["admin"])
    nav = client.get(reverse("curation:problem_list")).content.decode().split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert all(path in nav for path in ("/review/", "/adjudicate/", "/pipeline/"))
