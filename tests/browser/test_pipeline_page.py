"""The Pipeline page in a browser: a partial run's results lead to the failing problem; options
change the count over htmx; a graded file uploads and imports as a job; axe finds no serious or
critical violation on the page or on a partial run's results."""
import json
import re

import pytest
from playwright.sync_api import expect

from .conftest import login
from .test_accessibility import AXE, _violations

pytestmark = pytest.mark.browser


def _partial_verify_run(problems):
    from django.db import IntegrityError

    from curation.models import StageRun
    from curation.services.runs import ProblemFailures, run_finish, run_start

    run = StageRun.objects.create(stage="verify")
    run_start(run, total=len(problems))
    run.counts = {"verified": len(problems) - 2}
    failures = ProblemFailures(run, "verify")
    failures.record(problems[0].pk, IntegrityError("UNIQUE constraint failed: curation_verificationrun.problem_id"))
    failures.record(problems[1].pk, "reference solution crashed on test 3")
    run.counts["failed"] = failures.failed
    run.save(update_fields=["counts"])
    run_finish(run)
    return run


def test_a_partial_run_leads_from_the_pipeline_to_the_failing_problem(live_server, new_page, make_user, make_problem):
    make_user("pia", "admin")
    problems = [make_problem() for _ in range(4)]
    run = _partial_verify_run(problems)
    page = new_page()
    login(page, live_server.url, "pia")
    page.goto(f"{live_server.url}/pipeline/")
    panel = page.locator("#panel-verify")
    assert "2 problems failed" in panel.inner_text()
    panel.locator(".last-run a").click()
    page.wait_for_url(f"{live_server.url}/jobs/{run.pk}/")
    assert page.locator("#job-outcome").inner_text().startswith("Partial")
    groups = page.locator("#job-errors .error-group")
    assert groups.count() == 2
    text = page.locator("#job-errors").inner_text()
    assert "The database refused the change" in text and "reference solution crashed on test 3" in text
    assert "IntegrityError" not in page.locator("#job-errors").evaluate(
        "el => { const c = el.cloneNode(true); c.querySelectorAll('details').forEach(d => d.remove()); return c.innerText; }")
    page.locator("#job-errors a.failed-problem", has_text=problems[1].title).click()
    page.wait_for_url(f"{live_server.url}/problems/{problems[1].pk}/")
    assert "reference solution crashed on test 3" in page.locator("#stage-errors").inner_text()


def test_options_update_the_count_and_a_bad_value_names_the_field(live_server, new_page, make_user, make_problem):
    make_user("oona", "admin")
    for _ in range(5):
        make_problem()
    page = new_page()
    login(page, live_server.url, "oona")
    page.goto(f"{live_server.url}/pipeline/")
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/pipeline/touch/" in r.url else None)
    assert page.locator("#count-measure").inner_text() == "5"
    page.locator("#panel-measure summary").click()
    page.fill("#opt-measure-sample_size", "2")
    page.locator("#opt-measure-sample_size").dispatch_event("change")
    expect(page.locator("#count-measure")).to_have_text("2")
    assert asked and all("csrfmiddlewaretoken" not in u for u in asked) and "sample_size=2" in asked[-1]
    assert page.locator("#stage-measure").is_disabled()  # no model endpoint configured: a blocking prerequisite
    page.fill("#opt-measure-base_url", "http://127.0.0.1:9/v1")
    page.fill("#opt-measure-model", "ref-model")
    page.locator("#opt-measure-model").dispatch_event("change")
    expect(page.locator("#stage-measure")).to_be_enabled()
    page.fill("#opt-measure-k", "0")
    page.locator("#stage-measure").click()
    page.wait_for_selector("#opt-measure-k-error")
    assert "K (k): must be at least 1" in page.locator("#opt-measure-k-error").inner_text()
    assert page.locator("#opt-measure-sample_size").input_value() == "2"  # the rest of what was typed stays


def test_a_graded_file_uploads_and_imports_as_a_job(live_server, new_page, make_user, make_problem, settings, tmp_path, eager_celery):
    settings.UPLOAD_DIR = tmp_path
    make_user("gus", "admin")
    make_problem(external_id="q-1")
    make_problem(external_id="q-2")
    graded = tmp_path / "graded.json"
    graded.write_text(json.dumps([{"question_id": "q-1", "model": "m", "graded_list": [True, False]},
                                  {"question_id": "q-9", "model": "m", "graded_list": [True]}]))
    page = new_page()
    login(page, live_server.url, "gus")
    page.goto(f"{live_server.url}/pipeline/")
    page.set_input_files("#id_passrate_file", str(graded))
    page.locator("#passrate-submit").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+/$"))
    page.wait_for_selector("#job-outcome")
    assert page.locator("#job-status").inner_text() == "Succeeded"
    counts = page.locator("#job-counts").inner_text()
    assert re.search(r"matched\s+1", counts) and re.search(r"unmatched\s+1", counts) and re.search(r"measurements\s+1", counts)
    assert "q-9" in page.locator("#job-unmatched").inner_text()


def test_axe_finds_nothing_serious_on_the_pipeline_page_a_partial_run_and_its_problem(live_server, browser, make_user, make_problem):
    make_user("axel", "admin")
    problems = [make_problem() for _ in range(3)]
    run = _partial_verify_run(problems)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page, live_server.url, "axel")
        found = {}
        pages = {"pipeline": "/pipeline/", "partial run": f"/jobs/{run.pk}/", "failing problem": f"/problems/{problems[0].pk}/"}
        for name, path in pages.items():
            assert page.goto(live_server.url + path).status == 200
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # options and detail too
            found[name] = _violations(page)
    finally:
        context.close()
    assert AXE and not any(found.values()), json.dumps(found, indent=1)
