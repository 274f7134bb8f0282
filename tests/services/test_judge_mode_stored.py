"""Issue 12.3, the part a curator sees: every persisted judgement says how it was limited
(isolation, cgroup or rlimits, seccomp), on its rows, its pages and the API; the dashboard says
how the judge limits code now. Judgements here are real sandbox runs."""
import pytest
from django.core.cache import cache
from django.urls import reverse

from curation import selectors
from curation.judge import judge_solution
from curation.judge import mode as judge_modes
from curation.models import StageRun, VerificationRun
from curation.services import stages
from tests.api.conftest import api, make_problem  # noqa: F401 - fixture re-exported
from tests.fixtures.openai_server import OpenAITestServer

pytestmark = pytest.mark.django_db
SUM = "a, b = map(int, input().split())\nprint(a + b)\n"
RLIMITS = {"isolation": "bubblewrap", "resource_limits": "rlimits-only", "seccomp": True}
V1 = {"isolation": "bubblewrap", "resource_limits": "cgroup-v1", "seccomp": True}
WARNING = "rlimits only: memory/CPU limited per process, not per solution"


@pytest.fixture(scope="module")
def real_mode():
    """What this machine's judge reports for a judgement (the expected stored value)."""
    report = judge_solution(SUM, "python3", [("1 2\n", "3\n")])
    assert report.verdict.value == "AC"
    mode = judge_modes.report_mode(report)
    assert mode["isolation"] and mode["resource_limits"] in ("cgroup-v1", "cgroup-v2", "rlimits-only")
    return mode


def run_stage(stage, ids, **params):
    return stages.stage_run_execute(stages.stage_run_create(stage=stage, problem_ids=ids, params=params).pk)


def test_verify_stores_the_mode_on_each_problem_and_the_run(real_mode, client, users, api):
    problems = [make_problem(f"jm{i}") for i in range(2)]
    run = run_stage("verify", [p.pk for p in problems])
    assert run.status == "succeeded", run.errors
    rows = VerificationRun.objects.filter(stage_run=run)
    assert rows.count() == 2
    for vrun in rows:
        assert (vrun.isolation, vrun.resource_limits, vrun.seccomp) == (
            real_mode["isolation"], real_mode["resource_limits"], real_mode["seccomp"])
    run.refresh_from_db()
    assert run.judge_mode == real_mode

    label = judge_modes.describe(real_mode)["label"]
    client.force_login(users["viewer"])
    page = client.get(reverse("curation:stage_run_detail", args=[run.pk])).content.decode()
    assert 'id="job-judge-mode"' in page and all(p["text"] in page for p in judge_modes.describe(real_mode)["parts"])
    page = client.get(reverse("curation:problem_detail", args=[problems[0].pk])).content.decode()
    assert 'id="verification-judge-mode"' in page
    assert (WARNING in page) == (real_mode["resource_limits"] == "rlimits-only"), label

    body = api("viewer").get(f"/api/v1/stage-runs/{run.pk}/").json()
    assert body["judge_mode"] == real_mode
    vrun = rows.first()
    body = api("viewer").get(f"/api/v1/verification-runs/{vrun.pk}/").json()
    assert (body["isolation"], body["resource_limits"], body["seccomp"]) == (
        real_mode["isolation"], real_mode["resource_limits"], real_mode["seccomp"])


def test_a_run_keeps_the_weakest_mode_it_saw(monkeypatch, real_mode):
    """Should never happen, but a worker that lost its cgroup half-way must not claim more: the
    second problem's (real) judgement is reported weaker; the run keeps the weaker mode."""
    from curation.services import verification

    problems = [make_problem(f"wk{i}") for i in range(2)]
    real_judge = verification.JudgeSpec.judge
    weakened = problems[1].pk

    def judge(spec, code, language, **kw):
        report = real_judge(spec, code, language, **kw)
        judge.calls += 1
        if judge.calls == 2:  # one judgement per problem (the first reference passes), in order
            report.resource_limits, report.seccomp = "rlimits-only", False
        return report

    judge.calls = 0
    monkeypatch.setattr(verification.JudgeSpec, "judge", judge)
    run = run_stage("verify", [p.pk for p in problems], parallel=1)
    assert judge.calls == 2
    run.refresh_from_db()
    assert run.judge_mode == {**real_mode, "resource_limits": "rlimits-only", "seccomp": False}
    by_problem = dict(VerificationRun.objects.filter(stage_run=run).values_list("problem_id", "resource_limits"))
    assert by_problem == {problems[0].pk: real_mode["resource_limits"], weakened: "rlimits-only"}


def test_measure_stores_the_mode_on_its_run(real_mode, api):
    problems = [make_problem(f"ms{i}") for i in range(2)]
    with OpenAITestServer(default_solution=SUM) as server:
        run = run_stage("measure", [p.pk for p in problems], base_url=server.url, model="m", k=2)
    assert run.status == "succeeded", run.errors
    assert run.counts["passes"] == 4
    run.refresh_from_db()
    assert run.judge_mode == real_mode
    assert api("viewer").get(f"/api/v1/stage-runs/{run.pk}/").json()["judge_mode"] == real_mode


def test_pages_warn_for_rlimits_only_and_not_for_cgroups(client, users):
    client.force_login(users["viewer"])
    weak, strong = make_problem("weak"), make_problem("strong")
    for problem, mode in ((weak, RLIMITS), (strong, V1)):
        run = StageRun.objects.create(stage="verify", status="succeeded", judge_mode=mode)
        VerificationRun.objects.create(problem=problem, stage_run=run, outcome="verified", **mode)
        job = client.get(reverse("curation:stage_run_detail", args=[run.pk])).content.decode()
        page = client.get(reverse("curation:problem_detail", args=[problem.pk])).content.decode()
        for html in (job, page):
            if mode is RLIMITS:
                assert WARNING in html and "judge-mode-warning" in html
            else:
                assert "bubblewrap" in html and "cgroup-v1" in html and "seccomp" in html
                assert WARNING not in html and "judge-mode-warning" not in html
    # A row from before the limits were stored still shows its isolation, and no warning.
    old = make_problem("old")
    VerificationRun.objects.create(problem=old, outcome="verified", isolation="bubblewrap")
    page = client.get(reverse("curation:problem_detail", args=[old.pk])).content.decode()
    assert 'id="verification-judge-mode"' in page and "judge-mode-warning" not in page
    # A stage that judges nothing says nothing about it; the API says null.
    other = StageRun.objects.create(stage="predict", status="succeeded")
    assert 'id="job-judge-mode"' not in client.get(reverse("curation:stage_run_detail", args=[other.pk])).content.decode()


def test_stage_run_api_null_for_runs_that_judge_nothing(api):
    other = StageRun.objects.create(stage="predict", status="succeeded")
    assert api("viewer").get(f"/api/v1/stage-runs/{other.pk}/").json()["judge_mode"] is None


def test_dashboard_says_the_current_mode_once_from_a_cached_probe(client, users, monkeypatch, real_mode, settings):
    # A cache of this test's own: where tests share Redis, another process's dashboard could fill the key.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "judge-mode-test"}}
    cache.delete(selectors.JUDGE_MODE_CACHE_KEY)
    client.force_login(users["viewer"])
    page = client.get(reverse("curation:dashboard")).content.decode()
    assert page.count('id="judge-mode-now"') == 1
    assert all(p["text"] in page for p in judge_modes.describe(real_mode)["parts"])
    assert cache.get(selectors.JUDGE_MODE_CACHE_KEY) == judge_modes.probe()

    # Cached: a second page does not probe again; a new probe after expiry shows a weak mode as a warning.
    calls = []
    monkeypatch.setattr(judge_modes, "probe", lambda config=None: calls.append(1) or dict(RLIMITS))
    client.get(reverse("curation:dashboard"))
    assert calls == []
    cache.delete(selectors.JUDGE_MODE_CACHE_KEY)
    page = client.get(reverse("curation:dashboard")).content.decode()
    assert calls == [1] and WARNING in page
    # The latest judging run's mode is shown beside it, linked.
    run = StageRun.objects.create(stage="verify", status="succeeded", judge_mode=V1)
    page = client.get(reverse("curation:dashboard")).content.decode()
    assert reverse("curation:stage_run_detail", args=[run.pk]) in page and "cgroup-v1" in page


def test_schema_describes_the_judge_mode(api):
    schema = api("viewer").get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert set(components["JudgeMode"]["properties"]) == {"isolation", "resource_limits", "seccomp"}
    assert "judge_mode" in components["StageRun"]["properties"]
    assert {"resource_limits", "seccomp"} <= set(components["VerificationRun"]["properties"])
    assert "judge_mode" in components["EvalRun"]["properties"]
