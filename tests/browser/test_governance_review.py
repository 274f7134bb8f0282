"""Browser: bulk governance (roles, conflicts, picked rows, undo) and blind double review with
adjudication and a scoped queue, across real sessions in Chromium."""
import pytest

from .conftest import login

pytestmark = pytest.mark.browser


def test_bulk_governance_roles_conflicts_picked_rows_and_undo(live_server, new_page, make_user, make_problem, eager_celery, shot):
    from curation.models import Problem, Review

    make_user("cory", "curator")
    adj = make_user("ada", "adjudicator")
    problems = [make_problem(bucket="hard") for _ in range(6)]
    reviewed = problems[0]
    Review.objects.create(problem=reviewed, reviewer=adj, decision="reject", reason="broken", problem_version=1)
    Problem.objects.filter(pk=reviewed.pk).update(review_status="rejected")

    # A curator is not offered bulk accept/reject.
    page = new_page()
    login(page, live_server.url, "cory")
    page.goto(f"{live_server.url}/problems/?bucket=hard")
    options = page.locator("#id_bulk_action option").evaluate_all("els => els.map(e => e.value)")
    assert "accept" not in options and "reject" not in options and "add_to_selection" in options

    # An adjudicator picks two rows plus the reviewed one: the conflict is listed and left alone.
    page = new_page()
    login(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/problems/?bucket=hard")
    for p in (problems[1], problems[2], reviewed):
        page.check(f"#problem-rows input.pick[value='{p.pk}']")
    assert page.locator("#picked-count").inner_text() == "3"
    assert page.locator("#scope-picked").is_checked()
    page.select_option("#id_bulk_action", "accept")
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector("#bulk-conflicts")
    assert page.locator("#bulk-count").get_attribute("data-count") == "3"
    assert page.locator("#bulk-count").get_attribute("data-conflicts") == "1"
    assert "ada: reject" in page.locator("#bulk-conflicts").inner_text()
    # Nothing destructive is focused: Enter on arrival would follow Cancel, not start the job.
    assert page.evaluate("document.activeElement.id") == "bulk-cancel"
    shot(page, "bulk-conflicts")
    page.click("#bulk-confirm")
    page.wait_for_selector("#job-status:has-text('Succeeded')")
    assert "1 problem with existing reviews left alone" in page.locator("#job-skipped").inner_text()
    assert Problem.objects.get(pk=reviewed.pk).review_status == "rejected"
    assert Problem.objects.filter(pk__in=[problems[1].pk, problems[2].pk], review_status="accepted").count() == 2
    assert Problem.objects.filter(review_status="accepted").count() == 2
    # Undo the whole action as one job.
    page.click("#undo-button")
    page.wait_for_selector("#job-status:has-text('Succeeded')")
    assert "Undoes" in page.content()
    assert Problem.objects.filter(review_status="accepted").count() == 0
    shot(page, "bulk-undone")


def test_blind_double_review_then_adjudication_and_a_scoped_queue(live_server, new_page, make_user, make_problem, settings, shot):
    from curation.models import Problem, SavedView

    settings.REVIEWS_PER_PROBLEM = 2
    make_user("rita", "curator")
    make_user("sam", "curator")
    judge = make_user("jude", "adjudicator")
    target = make_problem(title="Scoped target", bucket="hard", verification_status="verified")
    make_problem(title="Out of scope", bucket="easy", verification_status="verified")
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.filter(username__in=("rita", "sam", "jude")):
        SavedView.objects.create(user=user, name="hard", query="bucket=hard")

    rita = new_page()
    login(rita, live_server.url, "rita")
    rita.goto(f"{live_server.url}/review/")
    view_id = rita.locator("#id_queue_view option", has_text="saved view: hard").get_attribute("value")
    with rita.expect_navigation():
        rita.select_option("#id_queue_view", view_id)  # scopes the queue (autosubmit)
    assert "bucket=hard" in rita.locator("#queue-scope-criteria").inner_text()
    with rita.expect_navigation():
        rita.keyboard.press("n")
    assert rita.locator("#review-root").get_attribute("data-problem") == str(target.pk)
    rita.fill("#id_comment", "rita-private-note")
    with rita.expect_navigation():
        rita.click("#accept-button")

    sam = new_page()
    login(sam, live_server.url, "sam")
    sam.goto(f"{live_server.url}/review/?view={SavedView.objects.get(user__username='sam').pk}")
    with sam.expect_navigation():
        sam.keyboard.press("n")
    assert sam.locator("#review-root").get_attribute("data-problem") == str(target.pk)
    # Blind: sam sees that a review exists, not what it says.
    assert "rita-private-note" not in sam.content() and sam.locator("#hidden-reviews").is_visible()
    sam.goto(f"{live_server.url}/problems/{target.pk}/")
    assert "rita-private-note" not in sam.content()
    sam.goto(f"{live_server.url}/review/")
    sam.fill("#id_score_implementation", "10")
    sam.fill("#id_reason", "tests too weak")
    with sam.expect_navigation():
        sam.click("#reject-button")
    assert Problem.objects.get(pk=target.pk).review_status == "needs_adjudication"

    jude = new_page()
    login(jude, live_server.url, "jude")
    jude.goto(f"{live_server.url}/adjudicate/")
    with jude.expect_navigation():
        jude.keyboard.press("n")
    table = jude.locator("#side-by-side").inner_text()
    assert "Curator rita" in table and "Curator sam" in table and "rita-private-note" in table and "tests too weak" in table
    assert all(jude.input_value(f"#id_score_{d}") == "" for d in ("implementation", "edge_cases"))  # nothing pre-filled
    shot(jude, "adjudication-side-by-side")
    with jude.expect_navigation():
        jude.click("#accept-button")
    assert Problem.objects.get(pk=target.pk).review_status == "accepted"
    # Settled: now sam sees rita's note.
    sam.goto(f"{live_server.url}/problems/{target.pk}/")
    assert "rita-private-note" in sam.content()
    assert judge.reviews.filter(is_adjudication=True).count() == 1
