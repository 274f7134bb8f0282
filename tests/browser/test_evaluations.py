"""Evaluations in Chromium: live progress while a run generates and judges, the results page with
its Chart.js plots, a problem's samples, starting a run from the form, and the compare page."""
from __future__ import annotations

import threading

import pytest

from .conftest import login

pytestmark = pytest.mark.browser


@pytest.fixture
def bench(transactional_db):
    import datetime as dt

    from tests.api.conftest import make_problem

    def make(pid, label, date, **kw):
        return make_problem(pid, source="lcb", is_benchmark=True, benchmark_name="lcb-v6", difficulty_label=label,
                            contest_date=date, **kw)

    return [make("e1", "easy", dt.date(2024, 9, 15), bucket="easy"), make("e2", "easy", dt.date(2024, 9, 20)),
            make("m1", "medium", dt.date(2024, 10, 1)), make("h1", "hard", dt.date(2024, 10, 5), bucket="hard")]


@pytest.fixture
def server():
    from tests.evaluations.conftest import ANSWERS
    from tests.fixtures.openai_server import OpenAITestServer

    with OpenAITestServer(raw_answers=ANSWERS, latency=0.25) as srv:
        yield srv


def chart_drawn(page, canvas_id: str) -> bool:
    return page.evaluate(f"() => !!(document.getElementById('{canvas_id}') || {{}}).chart")


def test_progress_results_samples_start_and_compare(live_server, new_page, make_user, bench, server, shot, settings,
                                                      eager_celery):
    from evaluations.models import EvalRun
    from evaluations.prompts import prompts_normalize
    from evaluations.services import eval_run_execute

    settings.VERIFY_PARALLELISM = 2
    make_user("eva", "curator")
    # A run that a worker is about to execute: the page follows it live.
    run = EvalRun.objects.create(name="live", model_name="test-model", base_url=server.url, benchmark_name="lcb-v6",
                                 n_samples=3, concurrency=1, request_timeout_s=5, prompts=prompts_normalize(None), total=12)
    page = new_page()
    login(page, live_server.url, "eva")
    page.goto(f"{live_server.url}/evaluations/{run.pk}/")
    assert page.locator("#eval-status").inner_text() == "Pending"
    worker = threading.Thread(target=eval_run_execute, args=(run.pk,))
    worker.start()
    # 12 samples one at a time at 250 ms each: the bar moves before the run is over.
    page.wait_for_function("() => { const p = document.getElementById('eval-progress'); return p && p.value > 0 && p.value < 1; }",
                           timeout=20_000)
    shot(page, "evaluation-progress")
    worker.join(timeout=60)
    # Finished: the poll answers HX-Refresh and the whole page comes back with the results.
    page.wait_for_selector("#summary-table", timeout=20_000)
    assert page.locator("#eval-status").inner_text() in ("Succeeded", "Succeeded with errors")
    page.wait_for_function("() => !!document.getElementById('chart-label').chart")
    assert chart_drawn(page, "chart-bucket") and chart_drawn(page, "chart-month")
    assert page.locator("#problem-table tbody tr").count() == 4
    assert "e1" in page.locator("#problem-table").inner_text()
    shot(page, "evaluation-results")
    page.click("#problem-table a:text('m1')")
    page.wait_for_selector("#sample-0")
    assert {"NO_CODE", "LANG"} <= set(page.locator("section.card h2 .st").all_inner_texts())

    # Start a second run from the form (eager Celery: it finishes before the redirect).
    page.goto(f"{live_server.url}/evaluations/")
    page.fill("#id_name", "from the form")
    page.fill("#id_base_url", server.url)
    page.fill("#id_model_name", "test-model")
    page.select_option("#id_benchmark_name", "lcb-v6")
    page.fill("#id_n_samples", "1")
    page.fill("#id_concurrency", "8")
    page.click("#eval-start")
    page.wait_for_selector("#summary-table", timeout=30_000)
    second = EvalRun.objects.exclude(pk=run.pk).get()
    assert second.name == "from the form" and second.is_finished

    # Compare: tick both on the list, the first ticked is the base.
    page.goto(f"{live_server.url}/evaluations/")
    page.check(f"input[name=runs][value='{run.pk}']")
    page.check(f"input[name=runs][value='{second.pk}']")
    page.click("#compare-button")
    page.wait_for_selector(f"#compare-{run.pk}, #compare-{second.pk}")
    page.wait_for_function("() => !!document.getElementById('chart-delta').chart")
    assert chart_drawn(page, "chart-compare")
    text = page.locator("section.card").last.inner_text()
    assert "Flipped problems" in text and "common problems" in text
    shot(page, "evaluation-compare")
