"""Workspace pages and the API of evaluations: roles, the live-progress partial (Vary, refresh on
finish), results/compare pages, API create/import/compare/custom input and its errors."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from curation.models import RunStatus
from evaluations.models import EvalRun
from evaluations.services import eval_run_create, eval_run_execute

from .test_service import WINDOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.VERIFY_PARALLELISM = 2


@pytest.fixture
def finished_run(bench, users, server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = eval_run_create(user=users["curator"], model_name="test-model", base_url=server.url, n_samples=2,
                              request_timeout_s=1.0, name="first", **WINDOW)
    with django_capture_on_commit_callbacks(execute=False):
        return eval_run_execute(run.pk)


def test_pages_for_a_viewer(client, users, finished_run):
    client.force_login(users["viewer"])
    page = client.get(reverse("evaluations:list")).content.decode()
    assert "first" in page and 'id="eval-start-form"' not in page  # viewers read, curators start
    detail = client.get(reverse("evaluations:detail", args=[finished_run.pk]))
    html = detail.content.decode()
    assert detail["Vary"] and "HX-Request" in detail["Vary"]
    assert 'id="chart-label"' in html and 'id="eval-data"' in html and "<script>" not in html.replace('<script src', '')
    assert "pass@1" in html and "e1" in html
    ep = finished_run.problems.get(question_id="m1")
    samples = client.get(reverse("evaluations:problem", args=[finished_run.pk, ep.pk])).content.decode()
    assert "NO_CODE" in samples and "LANG" in samples
    custom = client.get(reverse("evaluations:custom_input", args=[finished_run.pk])).json()
    assert custom[0]["question_id"] == "e1" and len(custom[0]["code_list"]) == 2


def test_judge_mode_on_the_page_and_in_the_api(client, users, finished_run, api):
    """The run stores how its samples were judged (a real sandbox run) and says so; a weak mode
    is a warning."""
    from curation.judge import judge_solution
    from curation.judge import mode as judge_modes

    real = judge_modes.report_mode(judge_solution("print(1)", "python3", [("", "1\n")]))
    assert finished_run.judge_mode == real
    assert EvalRun.objects.get(pk=finished_run.pk).judge_mode == real
    assert api("viewer").get(f"/api/v1/evaluations/{finished_run.pk}/").json()["judge_mode"] == real
    client.force_login(users["viewer"])
    html = client.get(reverse("evaluations:detail", args=[finished_run.pk])).content.decode()
    assert 'id="eval-judge-mode"' in html and all(p["text"] in html for p in judge_modes.describe(real)["parts"])
    EvalRun.objects.filter(pk=finished_run.pk).update(
        judge_mode={"isolation": "bubblewrap", "resource_limits": "rlimits-only", "seccomp": False})
    html = client.get(reverse("evaluations:detail", args=[finished_run.pk])).content.decode()
    assert "rlimits only: memory/CPU limited per process, not per solution" in html and "no seccomp" in html


def test_progress_partial_polls_and_refreshes_when_done(client, users, bench, server, django_capture_on_commit_callbacks):
    client.force_login(users["viewer"])
    with django_capture_on_commit_callbacks(execute=False):
        run = eval_run_create(user=users["curator"], model_name="m", base_url=server.url, **WINDOW)
    EvalRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, done=2, total=5)
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": f"eval-{run.pk}"}
    partial = client.get(reverse("evaluations:detail", args=[run.pk]), **htmx)
    body = partial.content.decode()
    assert body.lstrip().startswith(f'<div id="eval-{run.pk}"') and 'hx-trigger="every 1s"' in body
    assert 'value="0.4"' in body and "HX-Refresh" not in partial
    EvalRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    done = client.get(reverse("evaluations:detail", args=[run.pk]), **htmx)
    assert done["HX-Refresh"] == "true" and "every 1s" not in done.content.decode()


def test_start_from_the_form(client, users, bench, server, django_capture_on_commit_callbacks):
    client.force_login(users["curator"])
    form = {"base_url": server.url, "model_name": "test-model", "benchmark_name": "lcb-v6", "date_from": "2024-09-01",
            "date_to": "", "n_samples": 3, "temperature": 0.5, "top_p": 1, "max_tokens": 256, "concurrency": 4}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("evaluations:start"), form)
    run = EvalRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("evaluations:detail", args=[run.pk])
    assert (run.n_samples, run.date_from, run.total) == (3, dt.date(2024, 9, 1), 15)
    assert len(callbacks) == 1  # the task, after commit
    bad = client.post(reverse("evaluations:start"), {**form, "date_from": "2030-01-01"})
    assert bad.status_code == 400 and "no benchmark problems" in bad.content.decode()
    client.force_login(users["viewer"])
    assert client.post(reverse("evaluations:start"), form).status_code == 403


def test_api(api, users, finished_run, server, django_capture_on_commit_callbacks):
    viewer, curator = api("viewer"), api("curator")
    got = viewer.get(f"/api/v1/evaluations/{finished_run.pk}/").json()
    assert got["summary"]["overall"]["pass@1"]["value"] == pytest.approx(finished_run.summary["overall"]["pass@1"]["value"])
    problems = viewer.get(f"/api/v1/evaluations/{finished_run.pk}/problems/?label=easy").json()["results"]
    assert sorted(p["question_id"] for p in problems) == ["e1", "e2"]
    samples = viewer.get(f"/api/v1/evaluations/{finished_run.pk}/samples/?question_id=m1").json()["results"]
    assert [s["index"] for s in samples] == [0, 1]
    custom = viewer.get(f"/api/v1/evaluations/{finished_run.pk}/lcb-custom-input/").json()
    graded = [{"question_id": r["question_id"], "graded_list": [True] * len(r["code_list"]), "code_list": r["code_list"]}
              for r in custom]
    assert viewer.post("/api/v1/evaluations/import-lcb/", {"model_name": "x", "results": graded}, format="json").status_code == 403
    imported = curator.post("/api/v1/evaluations/import-lcb/", {"model_name": "oracle", "results": graded}, format="json")
    assert imported.status_code == 201 and imported.json()["status"] == "succeeded"
    cmp = viewer.get(f"/api/v1/evaluations/compare/?runs={finished_run.pk}&runs={imported.json()['id']}").json()
    other = cmp["others"][0]
    # the oracle solves what no sample solved: h1 (all wrong), m1 (n=2: no code, then Java)
    assert other["gained"] == ["h1", "m1"] and other["lost"] == []
    assert viewer.get(f"/api/v1/evaluations/compare/?runs={finished_run.pk}").json()["runs"]
    bad = curator.post("/api/v1/evaluations/", {"base_url": server.url, "model_name": "m", "n_samples": 0}, format="json")
    assert bad.status_code == 400 and "n_samples" in bad.json()
    with django_capture_on_commit_callbacks(execute=False):
        ok = curator.post("/api/v1/evaluations/", {"base_url": server.url, "model_name": "m", "benchmark_name": "lcb-v6"},
                          format="json")
    assert ok.status_code == 202 and ok.json()["status"] == "pending" and ok.json()["total"] == 6



@pytest.mark.django_db
@pytest.mark.parametrize("path, status", [
    ("/api/v1/evaluations/checkpoint-curve/?training_run=99999999999999999999999", 200),
    ("/api/v1/evaluations/checkpoint-curve/?training_run=-1", 200),
    ("/api/v1/evaluations/checkpoint-curve/?training_run=x", 400),
    ("/api/v1/evaluations/compare/?runs=1&runs=99999999999999999999999", 404),
])
def test_out_of_range_ids_are_no_row_not_a_crash(api, users, path, status):
    """Found by schemathesis: an id past 64 bits raised OverflowError (a 500) on SQLite. Such an
    id is no row's: an empty curve, or 404 like any missing evaluation; a non-number names the field."""
    response = api("viewer").get(path)
    assert response.status_code == status, response.content[:300]
    if status == 200:
        assert response.json()["steps"] == []
    if status == 400:
        assert "training_run" in str(response.json())
