"""Browser: filter + sort in quick succession end consistent (table, inputs, URL); snapshot →
export → download from the UI."""
import pytest

from .conftest import login

pytestmark = pytest.mark.browser


def test_filter_then_sort_in_quick_succession_ends_consistent(live_server, new_page, make_user, make_problem, shot):
    make_user("lena", "viewer")
    for i in range(8):
        make_problem(title=f"Hard {i}", bucket="hard", weighted_score=float(i))
    for i in range(4):
        make_problem(title=f"Easy {i}", bucket="easy", weighted_score=float(i))
    page = new_page()
    login(page, live_server.url, "lena")
    for attempt in range(3):
        page.goto(f"{live_server.url}/problems/")
        # Change a filter and click a sort header without waiting in between.
        page.select_option("#id_bucket", "easy")
        page.click("#problem-table thead a[data-sort='-weighted_score']")
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("#result-count:has-text('4 problems')")
        titles = page.locator("#problem-rows tr td:nth-child(2) a").all_inner_texts()
        assert titles == ["Easy 3", "Easy 2", "Easy 1", "Easy 0"], (attempt, titles)
        assert page.input_value("#id_bucket") == "easy"
        assert "bucket=easy" in page.url and "ordering=-weighted_score" in page.url
        assert "q=" not in page.url and "platform=" not in page.url  # empty parameters dropped
        page.wait_for_timeout(50)
    shot(page, "list-filter-sort")


def test_snapshot_then_export_then_download(live_server, new_page, make_user, make_problem, eager_celery, settings, tmp_path, shot):
    settings.MEDIA_ROOT = str(tmp_path)
    make_user("sid", "curator")
    for _ in range(3):
        make_problem(bucket="hard")
    make_problem(bucket="easy")
    page = new_page()
    login(page, live_server.url, "sid")
    page.click("nav >> text=Snapshots")
    page.fill("#id_snapshot_name", "browser-set")
    page.fill("#id_snapshot_query", "bucket=hard")
    page.click("#snapshot-submit")
    page.wait_for_selector("#job-status:has-text('Succeeded')")
    page.click("#job-snapshot")
    page.wait_for_selector("#manifest")
    assert "3 problems" in page.locator(".facts").inner_text()
    page.select_option("#id_export_format", "canonical-jsonl")
    page.click("#export-submit")
    page.wait_for_selector("#export-download")
    assert page.locator("#export-progress").get_attribute("value") == "1.0"
    shot(page, "export-done")
    with page.expect_download() as info:
        page.click("#export-download")
    path = info.value.path()
    lines = open(path, "rb").read().splitlines()
    assert len(lines) == 3 and all(line.startswith(b"{") for line in lines)


def test_dashboard_picks_up_and_follows_a_job_started_elsewhere(live_server, new_page, make_user, make_problem):
    from curation.models import StageRun

    make_user("dana", "viewer")
    make_problem()
    page = new_page()
    login(page, live_server.url, "dana")
    page.goto(f"{live_server.url}/dashboard/")
    assert "No jobs yet" in page.locator("#jobs").inner_text()
    # Started from the command line, say: nothing was running when the page loaded.
    run = StageRun.objects.create(stage="verify", status="running", total=10, done=2)
    page.wait_for_selector(f"#jobs a[href='/jobs/{run.pk}/']", timeout=12_000)
    assert "2/10" in page.locator("#jobs").inner_text()
    StageRun.objects.filter(pk=run.pk).update(done=7)
    page.wait_for_selector("#jobs :text('7/10')", timeout=5_000)
    StageRun.objects.filter(pk=run.pk).update(done=10, status="succeeded")
    page.wait_for_selector("#jobs :text('succeeded')", timeout=5_000)
