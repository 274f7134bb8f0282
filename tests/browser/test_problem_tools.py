"""In Chromium: the statement toggle swaps raw and rendered in place (htmx) and maths renders again
after the swap; the checker editor fills from a candidate (issue 14)."""
import pytest

from .conftest import login

pytestmark = pytest.mark.browser

RAW = "Input\n\nThe first line has $n$ ($1 \\le n \\le 10^{5}$).\n\nExamples\n\nInput\n\n1\n2\n\nOutput\n\n3"


def test_statement_toggle_and_checker_editor(live_server, new_page, make_user, make_problem, shot):
    from curation.models import CheckerCandidate
    from curation.process.normalize import normalize_statement

    make_user("cora", "curator")
    problem = make_problem(statement=normalize_statement(RAW, "markdown"), statement_original=RAW)
    cand = CheckerCandidate.objects.create(problem=problem, source="import sys\nsys.exit(0)\n", origin="llm",
                                           status="rejected", reason="too lenient: rejects 0 of 5 wrong outputs")
    page = new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live_server.url, "cora")
    page.goto(f"{live_server.url}/problems/{problem.pk}/")
    page.wait_for_selector("#statement .katex")
    assert page.locator("#statement pre code").first.inner_text() == "1\n2\n"  # line breaks kept
    page.click("text=Raw (as imported)")
    page.wait_for_selector("pre.statement-raw")
    assert page.locator("pre.statement-raw").inner_text().startswith("Input\n\nThe first line has $n$")
    assert page.url.endswith(f"/problems/{problem.pk}/")  # swapped in place, no navigation
    page.click("#statement-box >> text=Rendered")
    page.wait_for_selector("#statement .katex")  # maths rendered again after the swap
    shot(page, "statement-toggle")

    page.click(f"#checker-{cand.pk} >> text=Edit")
    page.wait_for_selector(f"text=Edit checker #{cand.pk}")
    assert page.locator("#checker-source").input_value() == "import sys\nsys.exit(0)\n"
    assert errors == []
