"""The Pipeline page (issue 15 item 5): stages built from the stage map, options validated as their
commands validate them, what a stage will touch, prerequisites, partial results grouped by reason
and linked to the problems, and the pass-rate upload as a background job."""
import argparse
import json
import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.db import IntegrityError
from django.urls import reverse

from curation.models import PassRateMeasurement, StageRun
from curation.pipeline import BY_NAME, pipeline_page_stages
from curation.services.runs import ProblemFailures, run_finish, run_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, users):
    client.force_login(users["admin"])
    return client


def _command_dests(stage) -> set[str]:
    command = load_command_class("curation", stage.command)
    parser = command.create_parser("manage.py", stage.command)
    return {a.dest for a in parser._actions if isinstance(a, argparse.Action)}


def test_every_stage_panel_shows_description_and_the_commands_own_options(admin_client, make_problem):
    make_problem()
    page = admin_client.get(reverse("curation:pipeline"))
    assert page.status_code == 200
    html = page.content.decode()
    for stage in pipeline_page_stages():
        assert stage.description and stage.description.split(":")[0] in html
        dests = _command_dests(stage)
        for opt in stage.options:
            # One list: every option the page offers is a flag of the command, and vice versa.
            assert opt.name in dests, (stage.name, opt.name)
            assert f'name="{opt.name}" id="opt-{stage.name}-{opt.name}"' in html
            assert f"<code>{opt.flag}</code>" in html
        common = {"help", "sync", "no_wait", "json", "problem_ids", "timeout", "version", "verbosity", "settings",
                  "pythonpath", "traceback", "no_color", "force_color", "skip_checks", "preview"}
        assert dests - common == {o.name for o in stage.options}, stage.name
        assert f'for="opt-{stage.name}-' in html or not stage.options  # labelled inputs


@pytest.mark.parametrize("stage,field,value,reason", [
    ("verify", "parallel", "0", "must be at least 1"),
    ("measure", "k", "four", "expected a whole number, got 'four'"),
    ("select", "target_easy_share", "1.5", "must be at most 1"),
    ("predict", "base_url", "file:///etc/passwd", "expected an http(s) URL"),
    ("process", "step", "explode", "'explode' is not one of normalize"),
])
def test_a_bad_option_is_refused_naming_the_field_as_the_command_refuses_it(admin_client, make_problem, stage, field, value, reason):
    make_problem()
    response = admin_client.post(reverse("curation:pipeline_stage"), {"stage": stage, field: value})
    assert response.status_code == 400 and not StageRun.objects.exists()
    html = unescape(response.content.decode())
    assert f'id="opt-{stage}-{field}-error"' in html and f"({field}): " in html and reason in html
    assert 'aria-invalid="true"' in html
    # The command refuses the same value with the same words.
    with pytest.raises(CommandError, match=re.escape(reason)):
        call_command(BY_NAME[stage].command, BY_NAME[stage].options_by_name[field].flag, value, "--sync")


def test_posted_options_reach_the_run_as_the_command_would_store_them(admin_client, make_problem, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    from curation.tasks import stages as stage_tasks

    for name in ("measure", "process"):
        monkeypatch.setattr(stage_tasks.STAGE_TASKS[name], "delay", lambda run_id: None)
    make_problem(verification_status="verified")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("curation:pipeline_stage"),
                          {"stage": "measure", "k": "2", "sample_size": "3", "base_url": "http://127.0.0.1:9/v1", "model": "m"})
        admin_client.post(reverse("curation:pipeline_stage"), {"stage": "process", "step": "samples"})
    measure = StageRun.objects.get(stage="measure")
    assert measure.params == {"k": 2, "seed": 0, "sample_size": 3, "base_url": "http://127.0.0.1:9/v1", "model": "m"}
    assert StageRun.objects.get(stage="process").step == "samples"
    # The command builds the same params from the same values.
    command = load_command_class("curation", "measure_pass_rates")
    options = vars(command.create_parser("manage.py", "measure_pass_rates").parse_args(
        ["--k", "2", "--sample-size", "3", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]))
    assert command.stage_params(options) == measure.params


def test_counts_follow_the_options_and_update_over_htmx(admin_client, make_problem):
    for i in range(5):
        make_problem(verification_status="needs_checker" if i < 2 else "unverified")
    page = admin_client.get(reverse("curation:pipeline")).content.decode()
    assert re.search(r'id="count-verify">5</strong> problems re-judged <span class="muted small">\(3 not verified yet\)', page)
    assert re.search(r'id="count-measure">5</strong>', page)
    touch = admin_client.get(reverse("curation:pipeline_touch"), {"stage": "measure", "sample_size": "2", "k": "3"},
                             headers={"HX-Request": "true"})
    body = touch.content.decode()
    assert touch.status_code == 200 and "<html" not in body and 'id="touch-measure"' in body
    assert re.search(r'id="count-measure">2</strong> problems sampled', body) and "3 solutions each = 6 judged" in body
    bad = admin_client.get(reverse("curation:pipeline_touch"), {"stage": "measure", "k": "-1"}).content.decode()
    assert "k: must be at least 1" in bad
    assert admin_client.get(reverse("curation:pipeline_touch"), {"stage": "nope"}).status_code == 404


def test_prerequisites_block_calibrate_until_predictions_and_evidence_exist(admin_client, make_problem):
    problems = [make_problem() for _ in range(5)]
    page = admin_client.get(reverse("curation:pipeline")).content.decode()
    panel = page[page.index('id="panel-calibrate"'):page.index('id="panel-select"')]
    assert re.search(r'id="stage-calibrate" class="primary" disabled', panel)
    assert "Predictions: run Predict first" in panel and "Pass-rate evidence: run Measure or import a graded file below" in panel
    refused = admin_client.post(reverse("curation:pipeline_stage"), {"stage": "calibrate"})
    assert refused.status_code == 400 and not StageRun.objects.exists()
    assert "Calibrate cannot start yet — Predictions: run Predict first" in refused.content.decode()
    for p in problems:
        p.weighted_score = 0.5
        p.save(update_fields=["weighted_score"])
        PassRateMeasurement.objects.create(problem=p, model="m", samples=4, passes=2)
    panel = admin_client.get(reverse("curation:pipeline")).content.decode()
    panel = panel[panel.index('id="panel-calibrate"'):panel.index('id="panel-select"')]
    assert not re.search(r'id="stage-calibrate" class="primary" disabled', panel)
    assert "5 problems have both" in panel
    # Measuring unverified problems is allowed but warned about.
    measure = page[page.index('id="panel-measure"'):page.index('id="panel-calibrate"')]
    assert "warning</span>\n          Verified: run Verify first" in measure


def _partial_verify_run(problems):
    run = StageRun.objects.create(stage="verify")
    run_start(run, total=len(problems))
    run.counts = {"verified": 1, "needs_checker": 2}
    failures = ProblemFailures(run, "verify")
    failures.record(problems[0].pk, IntegrityError("UNIQUE constraint failed: curation_verificationrun.problem_id"))
    failures.record(problems[1].pk, IntegrityError("UNIQUE constraint failed: curation_verificationrun.problem_id"))
    failures.record(problems[2].pk, "reference solution crashed on test 3")
    run.counts["failed"] = failures.failed
    run.save(update_fields=["counts"])
    run_finish(run)
    return run


def test_a_partial_run_lists_errors_by_reason_linked_to_problems_without_raw_exceptions(client, users, make_problem):
    problems = [make_problem() for _ in range(4)]
    run = _partial_verify_run(problems)
    assert run.status == "partial" and run.failed_count == 3
    client.force_login(users["viewer"])  # results are for every viewer
    html = client.get(reverse("curation:stage_run_detail", args=[run.pk])).content.decode()
    assert '<strong>Partial</strong>: finished; 3 problems failed and were skipped' in html
    assert '<a href="/problems/?verification_status=needs_checker">needs checker</a></th><td>2</td>' in html
    groups = html[html.index('id="job-errors"'):]
    assert "3 errors, by reason" in groups
    assert re.search(r'<strong class="group-count">2 ×</strong> <span class="muted">verify</span>: <span class="group-reason">The database refused the change', groups)
    for p in problems[:3]:
        assert f'href="/problems/{p.pk}/" class="failed-problem">problem {p.pk} · {p.title}</a>' in groups
    assert f"/problems/{problems[3].pk}/" not in groups
    # The exception's name appears only inside the collapsed technical detail.
    outside = re.sub(r"<details.*?</details>", "", groups, flags=re.S)
    assert "IntegrityError" in groups and "IntegrityError" not in outside
    # The pipeline page's verify panel shows the last run's outcome too.
    client.force_login(users["admin"])
    page = client.get(reverse("curation:pipeline")).content.decode()
    panel = page[page.index('id="panel-verify"'):page.index('id="panel-predict"')]
    assert f'href="/jobs/{run.pk}/">#{run.pk}</a>' in panel and "3 problems failed" in panel


def test_a_run_that_failed_as_a_whole_says_why_in_words(admin_client):
    from curation.services.stages import stage_run_create, stage_run_execute

    run = stage_run_create(stage="calibrate")
    run = stage_run_execute(run.pk)  # nothing to fit: the domain error is the reason
    html = admin_client.get(reverse("curation:stage_run_detail", args=[run.pk])).content.decode()
    assert run.status == "failed"
    assert "<strong>Failed</strong>: stopped: calibration needs at least 5 problems" in html


GRADED = [
    {"question_id": "p-a", "model": "m1", "graded_list": [True, False, True, True]},
    {"question_id": "p-b", "model": "m1", "graded_list": [False, False]},
    {"question_id": "nowhere", "model": "m1", "graded_list": [True]},
]


def test_pass_rate_upload_runs_as_a_job_and_shows_matched_and_unmatched(admin_client, make_problem, settings, tmp_path,
                                                                       monkeypatch, django_capture_on_commit_callbacks):
    from curation.services.stages import stage_run_execute
    from curation.tasks import stages as stage_tasks

    settings.UPLOAD_DIR = tmp_path
    sent = []
    monkeypatch.setattr(stage_tasks.STAGE_TASKS["pass_rates"], "delay", lambda run_id: sent.append(run_id))
    a, b = make_problem(external_id="p-a"), make_problem(external_id="p-b")
    upload = SimpleUploadedFile("../graded results.json", json.dumps(GRADED).encode(), content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("curation:pipeline_pass_rates"), {"file": upload})
    run = StageRun.objects.get(stage="pass_rates")
    assert response.status_code == 302 and response["Location"] == reverse("curation:stage_run_detail", args=[run.pk])
    assert sent == [run.pk] and run.status == "pending"
    assert "/" not in run.params["file_name"] and not run.params["upload"].startswith("/")  # no server path
    job = admin_client.get(reverse("curation:stage_run_detail", args=[run.pk])).content.decode()
    assert "every 1s" in job  # polls while it runs
    run = stage_run_execute(run.pk)
    assert run.status == "succeeded" and run.done == run.total == 3
    assert {k: run.counts[k] for k in ("results", "matched", "unmatched", "measurements")} == \
        {"results": 3, "matched": 2, "unmatched": 1, "measurements": 2}
    rows = {m.problem_id: (m.samples, m.passes, m.origin, m.stage_run_id) for m in PassRateMeasurement.objects.all()}
    # A redelivered task (worker died mid-import) starts over without doubling the evidence.
    StageRun.objects.filter(pk=run.pk).update(status="running")
    from curation.services.pass_rates import pass_rates_import_execute

    pass_rates_import_execute(StageRun.objects.get(pk=run.pk))
    assert PassRateMeasurement.objects.count() == 2
    assert rows == {a.pk: (4, 3, "imported", run.pk), b.pk: (2, 0, "imported", run.pk)}
    job = admin_client.get(reverse("curation:stage_run_detail", args=[run.pk])).content.decode()
    assert "<th scope=\"row\">matched</th><td>2</td>" in job and "<th scope=\"row\">unmatched</th><td>1</td>" in job
    assert 'id="job-unmatched"' in job and "nowhere" in job
    page = admin_client.get(reverse("curation:pipeline")).content.decode()
    assert "2 of 3 matched · 2 measurements" in page


@pytest.mark.parametrize("name,content,reason", [
    ("graded.txt", b"[]", "only .json or .jsonl graded files are accepted"),
    ("graded.json", b"/etc/passwd", "line 1: not JSON"),  # never taken for a path on the server
    ("graded.json", b"__import__('os').system('true')", "line 1: not JSON"),
    ("graded.jsonl", b'{"question_id": "q1", "n": -2, "passes": 0}\n', "entry q1: field n must be between 0 and 1e9"),
    ("graded.json", b'[{"question_id": "q2", "n": 2, "passes": 5}]', "entry q2: field passes (5) exceeds n (2)"),
    ("graded.json", b'[{"graded_list": [true]}]', "entry without question_id"),
    ("graded.json", b"[]", "the file holds no graded results"),
    ("graded.json", b"\xff\xfe\x00", "not UTF-8"),
])
def test_pass_rate_upload_refuses_bad_files_naming_the_record_and_field(admin_client, settings, tmp_path, name, content, reason):
    settings.UPLOAD_DIR = tmp_path
    response = admin_client.post(reverse("curation:pipeline_pass_rates"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400 and not StageRun.objects.exists() and not any(tmp_path.iterdir())
    html = response.content.decode()
    assert 'id="passrate-error"' in html and reason in html


def test_pass_rate_upload_has_a_size_cap(admin_client, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path
    settings.PASS_RATE_UPLOAD_MAX_BYTES = 100
    content = json.dumps(GRADED * 5).encode()
    response = admin_client.post(reverse("curation:pipeline_pass_rates"), {"file": SimpleUploadedFile("g.json", content)})
    assert response.status_code == 400 and f"the file is {len(content):,} bytes; the limit is 100" in response.content.decode()
    assert not StageRun.objects.exists()


def test_only_stage_runners_see_or_use_the_controls(client, users):
    client.force_login(users["curator"])
    assert client.get(reverse("curation:pipeline")).status_code == 403
    assert client.get(reverse("curation:pipeline_touch"), {"stage": "verify"}).status_code == 403
    upload = SimpleUploadedFile("g.json", json.dumps(GRADED).encode())
    assert client.post(reverse("curation:pipeline_pass_rates"), {"file": upload}).status_code == 403
    assert client.post(reverse("curation:pipeline_stage"), {"stage": "verify"}).status_code == 403
    assert not StageRun.objects.exists()
    nav = client.get(reverse("curation:dashboard")).content.decode()
    assert reverse("curation:pipeline") not in nav


def test_the_command_refuses_what_the_page_refuses(db):
    with pytest.raises(CommandError, match="argument --k: must be at least 1"):
        call_command("measure_pass_rates", "--k", "0", "--sync")
    with pytest.raises(CommandError, match="argument --parallel: expected a whole number"):
        call_command("verify_problems", "--parallel", "two", "--sync")
    assert not StageRun.objects.exists()


def test_the_problem_page_explains_its_stage_error_and_links_the_run(client, users, make_problem):
    problems = [make_problem() for _ in range(3)]
    run = _partial_verify_run(problems)
    client.force_login(users["viewer"])
    html = client.get(reverse("curation:problem_detail", args=[problems[0].pk])).content.decode()
    errors = html[html.index('id="stage-errors"'):]
    errors = errors[:errors.index("</ul>")]
    assert f'in run <a href="/jobs/{run.pk}/">#{run.pk}</a>: The database refused the change' in errors
    assert "IntegrityError" not in re.sub(r"<details.*?</details>", "", errors, flags=re.S)
