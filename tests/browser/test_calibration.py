"""The calibration workbench and the selection page in headless Chromium: what-ifs without page
reloads, fitting, saving a version, applying a selection, opening a disagreement into review."""
import random

import pytest
from scipy import stats

from .conftest import login

pytestmark = pytest.mark.browser
DIMS = ("algorithmic_thinking", "implementation", "mathematics", "data_structures", "edge_cases")


@pytest.fixture
def evidence(make_problem):
    from curation import workbench_selectors as wsel
    from curation.models import PassRateMeasurement

    wsel.workbench_cache_clear()
    rng = random.Random(11)
    problems = []
    for i in range(36):
        scores = {f"score_{d}": float(rng.randint(1, 10)) for d in DIMS}
        truth = (0.7 * scores["score_algorithmic_thinking"] + 0.3 * scores["score_mathematics"]) / 10
        p = make_problem(calibrated_pass_rate=max(0.0, 1 - truth), **scores)
        passes = max(0, min(8, round(8 * (1.05 - truth) + rng.uniform(-1.5, 1.5))))
        PassRateMeasurement.objects.create(problem=p, model="ref", samples=8, passes=passes, origin="imported" if i % 4 == 0 else "measured")
        problems.append(p)
    yield problems
    wsel.workbench_cache_clear()


def rho_of(weights: dict) -> float:
    from curation.models import PassRateMeasurement

    total = sum(weights.values())
    xs, ys = [], []
    for m in PassRateMeasurement.objects.select_related("problem").order_by("problem_id"):
        xs.append(round(sum(weights[d] / total * getattr(m.problem, f"score_{d}") for d in DIMS), 9))
        ys.append(m.passes / m.samples)
    return stats.spearmanr(xs, ys).statistic


def watch_errors(page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # htmx logs a replaced (aborted) what-if request as an error: hx-sync="this:replace" by design.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and not msg.text.startswith("htmx:") else None)
    return errors


def open_workbench(page, base_url):
    page.goto(f"{base_url}/calibration/")
    page.wait_for_function("() => window.Chart && window.Chart.getChart(document.getElementById('chart-scatter'))")


def test_change_a_weight_then_fit_then_save(live_server, new_page, make_user, evidence, shot):
    from curation.models import AuditEvent, Calibration

    make_user("cora", "curator")
    page = new_page()
    errors = watch_errors(page)
    login(page, live_server.url, "cora")
    open_workbench(page, live_server.url)
    default = {"algorithmic_thinking": 0.3, "implementation": 0.2, "mathematics": 0.15, "data_structures": 0.15, "edge_cases": 0.2}
    assert page.inner_text("#wb-rho") == f"{rho_of(default):.3f}"
    page.evaluate("() => { window.__marker = 1; }")  # survives only if the page never reloads
    # Only implementation counts: a much weaker rho, recomputed in place.
    for d in DIMS:
        page.fill(f"#id_weight_{d}", "1" if d == "implementation" else "0")
    proposed = {d: (1.0 if d == "implementation" else 0.0) for d in DIMS}
    want = f"{rho_of(proposed):.3f}"
    page.wait_for_function(f"() => document.querySelector('#wb-rho').innerText === '{want}'")
    assert page.evaluate("() => window.__marker") == 1
    shot(page, "calibration-whatif")
    easy_before = page.inner_text("#count-easy")
    page.fill("#id_easy_min", "0.3")
    page.wait_for_function(f"() => document.querySelector('#count-easy').innerText !== '{easy_before}'")
    assert int(page.inner_text("#count-easy")) > int(easy_before)
    # The counts arrive with the swap; the swapped-in canvas is drawn on htmx:afterSettle, a moment later.
    page.wait_for_function("() => window.Chart.getChart(document.getElementById('chart-scatter')) !== undefined")
    assert page.evaluate("() => window.Chart.getChart(document.getElementById('chart-scatter')).data.datasets.length") >= 2
    page.select_option("#colour-by", "bucket")
    labels = page.evaluate("() => window.Chart.getChart(document.getElementById('chart-scatter')).data.datasets.map(d => d.label)")
    assert "easy" in labels and "browsersrc" not in labels  # by predicted bucket, not by source
    # Fit: weights come back non-negative, summing to 1, with the cross-validated rho beside.
    page.click("#fit-weights")
    page.wait_for_selector("#fit-report")
    weights = {d: float(page.input_value(f"#id_weight_{d}")) for d in DIMS}
    assert all(w >= 0 for w in weights.values()) and sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
    assert weights["algorithmic_thinking"] > weights["implementation"]
    assert page.inner_text("#fit-rho-cv") not in ("", "—")
    assert page.evaluate("() => window.__marker") == 1
    shot(page, "calibration-fit")
    # Save the fitted proposal as a version.
    page.fill("#id_label", "fitted from the browser")
    page.click("#save-version")
    page.wait_for_selector("text=Saved calibration")
    row = Calibration.objects.get(label="fitted from the browser")
    assert row.weights == pytest.approx(weights, abs=1e-3) and row.metrics["weight_fit"]["rho_cv"] is not None
    assert row.bucket_bounds["easy_min"] == 0.3
    assert page.locator(f"#versions tr[data-version='{row.version}']").count() == 1
    assert AuditEvent.objects.filter(action="calibration_version_save", actor__username="cora").count() == 1
    shot(page, "calibration-saved")
    assert not errors, errors


def test_open_a_disagreement_into_review(live_server, new_page, make_user, evidence):
    make_user("rex", "curator")
    page = new_page()
    errors = watch_errors(page)
    login(page, live_server.url, "rex")
    open_workbench(page, live_server.url)
    row = page.locator("#dis-predicted_easy_rarely_solved tr[data-problem]").first
    pid = row.get_attribute("data-problem")
    row.locator("button.open-review").click()
    page.wait_for_url(f"{live_server.url}/review/")
    page.wait_for_selector(f"#review-root[data-problem='{pid}']")
    assert not errors, errors


def test_preview_a_policy_and_apply_it(live_server, new_page, make_user, evidence, eager_celery, shot):
    from curation.models import Problem, Selection

    make_user("sam", "curator")
    page = new_page()
    errors = watch_errors(page)
    login(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/selection/")
    page.wait_for_function("() => window.Chart && window.Chart.getChart(document.getElementById('chart-sel-bucket'))")
    page.evaluate("() => { window.__marker = 1; }")
    page.check("#id_policy_keep")
    page.fill("#id_keep_fraction", "0.5")
    page.wait_for_function("() => document.querySelector('#sel-kept').innerText === '18'")
    assert page.inner_text("#sel-entering") == "18" and page.inner_text("#sel-kept-fraction") == "50%"
    assert page.evaluate("() => window.__marker") == 1
    assert "policy=keep_fraction" in page.url
    shot(page, "selection-preview")
    page.fill("#id_sel_name", "hardest half")
    page.click("#apply-selection")
    page.wait_for_selector("text=Applying the selection")
    page.wait_for_selector("#job-status:has-text('Succeeded')")  # the job page polls its row
    sel = Selection.objects.get(name="hardest half")
    assert sel.is_current and sel.version == 1 and sel.problems.count() == 18
    hardest = sorted(Problem.objects.values_list("calibrated_pass_rate", "id"))[:18]
    assert set(sel.problems.values_list("id", flat=True)) == {pid for _r, pid in hardest}
    page.goto(f"{live_server.url}/selection/?policy=keep_fraction&keep_fraction=0.5")
    assert page.inner_text("#sel-entering") == "0" and page.inner_text("#sel-leaving") == "0"
    assert page.locator(f"#selection-versions tr[data-selection='{sel.pk}']").count() == 1
    shot(page, "selection-applied")
    assert not errors, errors
