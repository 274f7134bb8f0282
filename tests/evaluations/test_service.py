"""An evaluation end to end against the OpenAI-protocol test server: a benchmark window, samples
generated (faults retried, a refused request recorded), extracted, judged in the sandbox by each
problem's own rule; pass@k and breakdowns equal hand-computed values; a rerun resumes from the
cache; the webhook event; lcb_runner interchange both ways."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from curation.models import Webhook, WebhookDelivery
from evaluations import selectors
from evaluations.models import EvalRun, EvalSample
from evaluations.services import EvalInputError, eval_import_lcb, eval_run_create, eval_run_execute

pytestmark = pytest.mark.django_db

WINDOW = dict(benchmark_name="lcb-v6", date_from=dt.date(2024, 9, 1), date_to=dt.date(2024, 12, 31))


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.VERIFY_PARALLELISM = 2


def start(server, users, django_capture_on_commit_callbacks, **kw):
    params = dict(model_name="test-model", base_url=server.url, n_samples=4, temperature=0.8,
                  concurrency=8, request_timeout_s=1.0, **WINDOW)
    params.update(kw)
    with django_capture_on_commit_callbacks(execute=False):  # the worker's task: run it inline below
        run = eval_run_create(user=users["curator"], **params)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = eval_run_execute(run.pk)
    return run, callbacks


def test_pass_at_k_and_breakdowns_match_hand_values(bench, users, server, django_capture_on_commit_callbacks):
    Webhook.objects.create(url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 40, events=["eval_run.finished"])
    run, callbacks = start(server, users, django_capture_on_commit_callbacks)
    assert run.status == "partial", run.message  # one sample got no answer: reported, not hidden
    assert run.problem_count == 5 and run.total == 20 and run.done == 20
    assert run.samples_failed == 1
    assert [e["record"].split()[0] for e in run.errors] == ["h2"]
    assert "bad request (400)" in run.errors[0]["message"]
    eps = {ep.question_id: (ep.n, ep.c) for ep in run.problems.all()}
    assert eps == {"e1": (4, 4), "e2": (4, 1), "m1": (4, 2), "h1": (4, 0), "h2": (3, 3)}
    verdicts = {(s.eval_problem.question_id, s.verdict) for s in EvalSample.objects.filter(run=run)}
    assert {("m1", "NO_CODE"), ("m1", "LANG"), ("m1", "AC"), ("e2", "WA"), ("h1", "WA")} <= verdicts
    cpp = EvalSample.objects.get(run=run, eval_problem__question_id="m1", language="cpp")
    assert cpp.passed and cpp.tests and all(t[0] == "AC" for t in cpp.tests)

    s = run.summary
    assert s["ks"] == [1, 2, 3]
    assert s["overall"]["pass@1"]["value"] == pytest.approx((1 + 0.25 + 0.5 + 0 + 1) / 5)
    # pass@2: e1 1, e2 1 - C(3,2)/C(4,2) = 0.5, m1 1 - 1/6, h1 0, h2 1
    assert s["overall"]["pass@2"]["value"] == pytest.approx((1 + 0.5 + 5 / 6 + 0 + 1) / 5)
    assert s["overall"]["pass@3"]["value"] == pytest.approx((1 + 0.75 + 1 + 0 + 1) / 5)
    low, high = s["overall"]["pass@1"]["low"], s["overall"]["pass@1"]["high"]
    assert 0 <= low < 0.55 < high <= 1
    by = s["by"]
    assert by["label"]["easy"]["pass@1"]["value"] == pytest.approx(0.625)
    assert by["label"]["medium"]["pass@1"]["value"] == pytest.approx(0.5)
    assert by["label"]["hard"]["pass@1"]["value"] == pytest.approx(0.5)
    assert by["bucket"]["medium"]["pass@1"]["value"] == pytest.approx((0.25 + 0.5) / 2)
    assert by["month"]["2024-09"]["pass@1"]["value"] == pytest.approx(0.625)
    assert by["month"]["2024-10"]["pass@1"]["value"] == pytest.approx(0.25)
    assert by["month"]["2024-11"]["pass@1"]["value"] == pytest.approx(1.0)
    assert by["platform"]["atcoder"]["problems"] == 1
    # Every request carried the sampling parameters; faults were retried (Retry-After honoured).
    solve = [r for r in server.requests if r.kind == "solve"]
    assert all(r.body["temperature"] == 0.8 and r.body["top_p"] == 0.95 and r.body.get("n", 1) == 1 for r in solve)
    assert sum(1 for r in solve if r.fault) == 5
    assert not any("(old)" in r.text or "(train)" in r.text for r in solve)
    # eval_run.finished goes out after commit.
    for cb in callbacks:
        cb()
    delivery = WebhookDelivery.objects.get(event="eval_run.finished")
    assert delivery.payload["data"]["id"] == run.pk
    assert delivery.payload["data"]["pass_at_k"]["pass@1"] == pytest.approx(0.55)


def test_rerun_resumes_from_the_cache(bench, users, server, django_capture_on_commit_callbacks):
    first, _ = start(server, users, django_capture_on_commit_callbacks)
    asked = len(server.requests)
    second, _ = start(server, users, django_capture_on_commit_callbacks, name="again")
    # 19 answers reused; only the refused one is asked again (and now answered).
    assert second.cached_samples == 19
    assert len(server.requests) == asked + 1
    assert second.status == "succeeded"
    assert {ep.question_id: (ep.n, ep.c) for ep in second.problems.all()}["h2"] == (4, 4)
    # Different sampling parameters are different samples: nothing reused.
    third, _ = start(server, users, django_capture_on_commit_callbacks, temperature=0.3, n_samples=1)
    assert third.cached_samples == 0


def test_bad_requests_name_the_field(bench, users):
    base = dict(user=users["curator"], model_name="m", base_url="http://127.0.0.1:1/v1")
    for kw, field in (({"n_samples": 0}, "n_samples"), ({"temperature": 3}, "temperature"),
                      ({"base_url": "ftp://x"}, "base_url"), ({"benchmark_name": "nope"}, "benchmark_name"),
                      ({"prompts": {"stdin": "{oops}"}}, "prompts.stdin"),
                      ({"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2024, 1, 1)}, "date_to")):
        with pytest.raises(EvalInputError) as exc:
            eval_run_create(**{**base, **kw})
        assert exc.value.field == field
    assert not EvalRun.objects.exists()


def test_lcb_interchange_both_ways(bench, users, server, django_capture_on_commit_callbacks):
    run, _ = start(server, users, django_capture_on_commit_callbacks)
    custom = selectors.lcb_custom_input(run)
    assert [row["question_id"] for row in custom] == ["e1", "e2", "m1", "h1", "h2"]
    assert len(custom[0]["code_list"]) == 4 and "print(a + b)" in custom[0]["code_list"][0]
    # lcb_runner grades that input; its eval_all output comes back as an evaluation.
    graded = [{"question_id": row["question_id"], "code_list": row["code_list"], "difficulty": "easy",
               "platform": "codeforces", "contest_date": "2024-09-15T00:00:00",
               "graded_list": [("a + b" in c) for c in row["code_list"]]} for row in custom]
    graded.append({"question_id": "broken"})
    imported = eval_import_lcb(user=users["curator"], data=json.dumps(graded), model_name="test-model",
                               benchmark_name="lcb-v6")
    assert imported.status == "partial" and imported.errors[0]["field"] == "graded_list"
    eps = {ep.question_id: (ep.n, ep.c, ep.bucket) for ep in imported.problems.all()}
    assert eps["e1"] == (4, 4, "easy") and eps["m1"] == (4, 1, "medium")  # the C++ block has no "a + b"
    cmp = selectors.eval_compare([run, imported])["others"][0]
    assert cmp["common"] == 5 and cmp["gained"] == [] and cmp["lost"] == []
    # only m1 differs: our judge passed the C++ answer, the stand-in grading above did not
    assert cmp["overall"]["pass@1"]["delta"] == pytest.approx(-0.25 / 5)
    assert len(custom[4]["code_list"]) == 3  # h2's unanswered sample is not sent for grading


def test_evaluate_command(bench, users, server, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from io import StringIO

    out = StringIO()
    call_command("evaluate", "--base-url", server.url, "--model", "test-model", "--benchmark", "lcb-v6",
                 "--from", "2024-09-01", "--to", "2024-09-30", "-n", "2", "--sync", "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["status"] == "succeeded" and payload["problems"] == 2
    # e1 2/2, e2 1/2 (right then wrong)
    assert payload["pass_at_k"]["pass@1"] == pytest.approx((1 + 0.5) / 2)
    custom = StringIO()
    call_command("evaluate", "--lcb-custom-input", str(payload["id"]), stdout=custom)
    rows = json.loads(custom.getvalue())
    graded = tmp_path / "eval_all.json"
    graded.write_text(json.dumps([{"question_id": r["question_id"], "graded_list": [True] * len(r["code_list"])} for r in rows]))
    imported = StringIO()
    call_command("evaluate", "--import-lcb", str(graded), "--model", "lcb", stdout=imported)
    assert "pass@1: 1.0000" in imported.getvalue()
    with pytest.raises(CommandError, match="n_samples"):
        call_command("evaluate", "--base-url", server.url, "--model", "m", "-n", "0", "--sync")


def test_checkpoint_evaluations_give_a_curve_by_step(bench, users, server, api, django_capture_on_commit_callbacks):
    from curation.services.snapshots import snapshot_create
    from evaluations.selectors import checkpoint_curve
    from tests.evaluations.conftest import RIGHT, WRONG
    from tests.fixtures.openai_server import OpenAITestServer
    from training_jobs.models import Checkpoint, ComputeTarget, Recipe, TrainingRun

    training = TrainingRun.objects.create(
        name="grpo", train_snapshot=snapshot_create(name="train", user=users["curator"]),
        recipe=Recipe.objects.create(name="r", base_model="tiny"), target=ComputeTarget.objects.create(name="local", kind="local"))
    early = Checkpoint.objects.create(run=training, step=100, path="/ckpt/100")
    late = Checkpoint.objects.create(run=training, step=200, path="/ckpt/200")
    window = dict(benchmark_name="lcb-v6", date_from=dt.date(2024, 9, 1), date_to=dt.date(2024, 9, 30))
    # The early checkpoint is served by the shared server (e1 right, e2 right then wrong); the late
    # one by a server that gets e2 right every time.
    run_early, _ = start(server, users, django_capture_on_commit_callbacks, n_samples=2, checkpoint=early, **window)
    with OpenAITestServer(raw_answers={"(e1)": [RIGHT], "(e2)": [RIGHT, RIGHT, WRONG, RIGHT]}) as better:
        with django_capture_on_commit_callbacks(execute=False):
            created = eval_run_create(user=users["curator"], model_name="ckpt", base_url=better.url, n_samples=2,
                                      checkpoint=late, **window)
        run_late = eval_run_execute(created.pk)
    assert run_early.summary["overall"]["pass@1"]["value"] == pytest.approx(0.75)
    assert run_late.summary["overall"]["pass@1"]["value"] == pytest.approx(1.0)
    curve = checkpoint_curve(training.pk)
    assert curve["steps"] == [100, 200] and curve["evaluations"] == [run_early.pk, run_late.pk]
    assert curve["series"]["all"] == pytest.approx([0.75, 1.0])
    assert curve["series"]["easy"] == pytest.approx([0.75, 1.0])
    via_api = api("viewer").get(f"/api/v1/evaluations/checkpoint-curve/?training_run={training.pk}").json()
    assert via_api["steps"] == [100, 200]
    assert api("viewer").get(f"/api/v1/evaluations/?checkpoint={late.pk}").json()["results"][0]["id"] == run_late.pk
    page = None
    from django.test import Client

    client = Client()
    client.force_login(users["viewer"])
    page = client.get(f"/evaluations/training-runs/{training.pk}/").content.decode()
    assert 'id="chart-steps"' in page and 'id="checkpoint-data"' in page and f"#{run_late.pk}" in page


def test_resume_asks_only_the_missing_answers_again(bench, users, server, django_capture_on_commit_callbacks):
    from evaluations.services import eval_run_resume

    run, _ = start(server, users, django_capture_on_commit_callbacks)
    assert run.samples_failed == 1
    asked = len(server.requests)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = eval_run_resume(run=run, user=users["curator"])
    assert run.status == "pending" and len(callbacks) == 1
    run = eval_run_execute(run.pk)
    assert len(server.requests) == asked + 1  # the one refused sample, nothing else
    assert run.status == "succeeded" and run.samples_failed == 0 and run.errors == []
    assert {ep.question_id: (ep.n, ep.c) for ep in run.problems.all()}["h2"] == (4, 4)
    assert run.summary["overall"]["pass@1"]["value"] == pytest.approx((1 + 0.25 + 0.5 + 0 + 1) / 5)
