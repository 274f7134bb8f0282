"""Issue 14.1: one failing problem never stops a stage. Each test injects one failing problem
into a stage and checks that the others completed, that the run ends `partial` naming the problem,
and that the problem itself says what failed."""
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from curation.models import DatasetSnapshot, Export, PassRateMeasurement, Problem, Selection, SnapshotItem, StageRun
from curation.services import exports, prediction, processing, snapshots, stages, verification
from tests.api.conftest import make_problem
from tests.fixtures.openai_server import OpenAITestServer

pytestmark = pytest.mark.django_db
SUM = "a, b = map(int, input().split())\nprint(a + b)\n"


def run_stage(stage, ids, **params):
    return stages.stage_run_execute(stages.stage_run_create(stage=stage, problem_ids=ids, params=params).pk)


def assert_failed_alone(run, victim, step, n_failed=1):
    assert run.status == "partial", (run.status, run.message, run.errors)
    assert run.failed_count == n_failed
    assert [e["record"] for e in run.errors] == [f"problem {victim.pk}"] and run.errors[0]["field"] == step
    victim.refresh_from_db()
    assert victim.stage_errors[run.stage]["step"] == step and victim.stage_errors[run.stage]["run"] == run.pk


def test_process_goes_on_and_the_one_test_ordinal_bug_is_fixed(monkeypatch, capsys, client, users):
    ok = make_problem("ok")
    # Exactly one test (ordinal 0) and no sample: the next ordinal was `(0 or -1) + 1` == 0.
    single = make_problem("single", n_tests=0, statement="Add two numbers.\n\nExamples\nInput\n5 5\nOutput\n10\n")
    victim = make_problem("victim", statement="POISON statement")
    real = processing.norm.normalize_statement

    def poisoned(text, fmt=None):
        if "POISON" in text:
            raise UnicodeError("cannot decode the statement")
        return real(text, fmt)

    monkeypatch.setattr(processing.norm, "normalize_statement", poisoned)
    ids = [ok.pk, single.pk, victim.pk]
    call_command("process_problems", "--sync", "--json", "--problem-ids", ",".join(map(str, ids)))
    summary = json.loads(capsys.readouterr().out)
    run = StageRun.objects.get(pk=summary["id"])
    assert summary["status"] == "partial" and summary["failed"] == 1
    assert summary["counts"]["normalize"] == {"normalized": 2, "incomplete": summary["counts"]["normalize"]["incomplete"], "failed": 1}
    assert_failed_alone(run, victim, "normalize")
    assert "UnicodeError: cannot decode the statement" in run.errors[0]["message"]
    assert victim.process_status == "failed"  # not marked processed
    assert Problem.objects.get(pk=ok.pk).process_status in ("ok", "incomplete")
    assert list(single.tests.order_by("ordinal").values_list("ordinal", "kind")) == [(0, "generated"), (1, "sample")]

    # The UI shows how many failed and why, on the run and on the problem.
    client.force_login(users["viewer"])
    page = client.get(reverse("curation:stage_run_detail", args=[run.pk])).content.decode()
    assert "1 problem failed" in page and f"problem {victim.pk}" in page
    page = client.get(reverse("curation:problem_detail", args=[victim.pk])).content.decode()
    assert 'id="stage-errors"' in page and "cannot decode the statement" in page

    # Fixed, the rerun succeeds and the problem's error is cleared.
    monkeypatch.setattr(processing.norm, "normalize_statement", real)
    again = run_stage("process", ids)
    assert again.status == "succeeded" and again.failed_count == 0
    victim.refresh_from_db()
    assert victim.stage_errors == {} and victim.process_status in ("ok", "incomplete")


def test_verify_goes_on(monkeypatch):
    problems = [make_problem(f"v{i}") for i in range(3)]
    victim = problems[1]
    real = verification._store

    def store(run, problem, job):
        if problem.pk == victim.pk:
            raise RuntimeError("database hiccup")
        return real(run, problem, job)

    monkeypatch.setattr(verification, "_store", store)
    run = run_stage("verify", [p.pk for p in problems])
    assert_failed_alone(run, victim, "verify")
    assert run.counts == {"verified": 2, "failed": 1}


def test_predict_goes_on(monkeypatch):
    problems = [make_problem(f"p{i}") for i in range(4)]
    victim = problems[2]
    real = prediction.problem_inputs

    def inputs(batch):
        if any(p.pk == victim.pk for p in batch):
            if len(batch) > 1:
                raise ValueError("bad features in the batch")
            raise ValueError("bad features")
        return real(batch)

    monkeypatch.setattr(prediction, "problem_inputs", inputs)
    with OpenAITestServer() as server:
        run = run_stage("predict", [p.pk for p in problems], predictor="llm", base_url=server.url, model="m")
    assert_failed_alone(run, victim, "prediction")
    assert (run.counts["ok"], run.counts["failed"]) == (3, 1)


def test_measure_goes_on_past_a_problem_whose_rule_cannot_be_built():
    good = [make_problem(f"m{i}") for i in range(2)]
    victim = make_problem("m-bad", comparison={"mode": "no-such-rule"})
    with OpenAITestServer(default_solution=SUM) as server:
        run = run_stage("measure", [p.pk for p in good + [victim]], base_url=server.url, model="m", k=2)
    assert_failed_alone(run, victim, "measure")
    assert "comparison" in run.errors[0]["message"]
    assert run.counts["problems"] == 2 and run.counts["passes"] == 4
    assert set(PassRateMeasurement.objects.values_list("problem_id", flat=True)) == {p.pk for p in good}


def test_calibrate_leaves_out_a_problem_whose_inputs_are_wrong():
    problems = [make_problem(f"c{i}", weighted_score=float(i)) for i in range(7)]
    for i, p in enumerate(problems):
        PassRateMeasurement.objects.create(problem=p, model="m", samples=10, passes=10 - i)
    victim = problems[3]
    PassRateMeasurement.objects.create(problem=victim, model="m2", samples=1, passes=50, origin="imported")
    run = run_stage("calibrate", None)
    assert_failed_alone(run, victim, "calibrate")
    assert run.counts["n_points"] == 6 and "passes out of" in run.errors[0]["message"]


def test_select_leaves_out_a_problem_it_cannot_bucket():
    problems = [make_problem(f"s{i}", calibrated_pass_rate=0.1 * i) for i in range(5)]
    victim = problems[0]
    Problem.objects.filter(pk=victim.pk).update(calibrated_pass_rate=1.7)
    run = run_stage("select", [p.pk for p in problems], name="sel", policy="cutoff", max_pass_rate=0.9)
    assert_failed_alone(run, victim, "select")
    kept = set(Selection.objects.get(name="sel").problems.values_list("pk", flat=True))
    assert kept == {p.pk for p in problems[1:]}


def test_snapshot_and_export_go_on(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    problems = [make_problem(f"x{i}") for i in range(3)]
    victim = make_problem("x-bad")
    unjudgeable = make_problem("x-fn", io_format="functional")  # no entry point: frozen, judge null
    real = snapshots.problem_freeze

    def freeze(problem, tests, solutions):
        if problem.pk == victim.pk:
            raise KeyError("tests")
        return real(problem, tests, solutions)

    monkeypatch.setattr(snapshots, "problem_freeze", freeze)
    snapshot = snapshots.snapshot_create(name="iso", user=None, filters={"source": "testsrc"})
    assert snapshot.problem_count == 4
    assert snapshot.manifest["excluded"] == [{"record": f"problem {victim.pk}", "message": "KeyError: 'tests'"}]
    victim.refresh_from_db()
    assert victim.stage_errors["snapshot"]["message"] == "KeyError: 'tests'"
    assert SnapshotItem.objects.get(snapshot=snapshot, problem=unjudgeable).data["judge"] is None

    # One frozen item the writer cannot read: the export leaves it out and says so.
    broken = SnapshotItem.objects.filter(snapshot=snapshot).order_by("ordinal")[1]
    data = dict(broken.data, judge={"io_format": "interactive"})
    SnapshotItem.objects.filter(pk=broken.pk).update(data=data)
    export = exports.export_create(snapshot=DatasetSnapshot.objects.get(pk=snapshot.pk), format="verl", user=None)
    export = exports.export_execute(export.pk)
    assert export.status == "partial" and export.done == 3, export.errors
    assert export.errors[0]["record"] == f"problem {broken.problem_id}" and "io_format" in export.errors[0]["message"]
    assert Export.objects.get(pk=export.pk).file
