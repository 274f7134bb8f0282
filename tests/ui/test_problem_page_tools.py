"""Problem page: the statement's raw/rendered toggle and the checkers card (issue 14)."""
from __future__ import annotations

import pytest

from curation.models import CheckerCandidate, StageRun, TestCase
from tests.fixtures.checkers import LENIENT, PAIR_GOOD

from .conftest import client_for

pytestmark = pytest.mark.django_db

RAW = "Input\n\nn ≤ 109\n\nExamples\n\nInput\n\n1\n2\n\nOutput\n\n3"


@pytest.fixture
def problem(make_problem):
    from curation.process.normalize import normalize_statement, statement_warnings

    statement = normalize_statement(RAW, "markdown")
    p = make_problem(title="Any Pair Sum", statement=statement, statement_original=RAW,
                     extra={"statement_warnings": statement_warnings(statement)})
    for i, (inp, out) in enumerate((("5\n", "1 4\n"), ("2\n", "1 1\n"), ("10\n", "3 7\n"))):
        TestCase.objects.create(problem=p, ordinal=i, input=inp, output=out)
    return p


def test_statement_toggle_raw_and_rendered(client, users, problem):
    c = client_for(client, users["viewer"])
    page = c.get(f"/problems/{problem.pk}/").content.decode()
    assert '<h2>Examples</h2>' in page and "<pre><code>1\n2\n</code></pre>" in page
    assert 'href="?statement=raw#statement"' in page and "statement-raw" not in page
    assert "Suspected lost superscripts" in page and "<code>n ≤ 109</code>" in page
    raw = c.get(f"/problems/{problem.pk}/?statement=raw").content.decode()
    assert '<pre class="statement-raw" id="statement">Input\n\nn ≤ 109' in raw

    partial = c.get(f"/problems/{problem.pk}/statement/?statement=raw", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "HX-Request" in partial["Vary"]
    body = partial.content.decode()
    assert body.strip().startswith('<div id="statement-box">') and "<html" not in body and "statement-raw" in body
    # Without htmx the same link lands on the page in that mode.
    plain = c.get(f"/problems/{problem.pk}/statement/?statement=raw")
    assert plain.status_code == 302 and plain["Location"].endswith(f"/problems/{problem.pk}/?statement=raw#statement")


def test_raw_statement_is_escaped(client, users, make_problem):
    p = make_problem(statement="safe", statement_original="<script>alert(1)</script>")
    page = client_for(client, users["viewer"]).get(f"/problems/{p.pk}/?statement=raw").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_curator_saves_validates_and_approves_a_checker(client, users, problem, django_capture_on_commit_callbacks):
    c = client_for(client, users["curator"])
    bad = c.post(f"/problems/{problem.pk}/checkers/save/", {"source": LENIENT}, follow=True).content.decode()
    assert "failed validation: too lenient" in bad
    good = c.post(f"/problems/{problem.pk}/checkers/save/", {"source": PAIR_GOOD}, follow=True).content.decode()
    assert "passed validation" in good and "Approve and re-verify" in good
    candidate = CheckerCandidate.objects.get(status="valid")
    assert candidate.created_by == users["curator"] and candidate.origin == "curator"
    with django_capture_on_commit_callbacks(execute=False):
        r = c.post(f"/checkers/{candidate.pk}/approve/")
    assert r.status_code == 302 and r["Location"].endswith(f"/problems/{problem.pk}/#checkers")
    problem.refresh_from_db()
    assert problem.comparison["checker"] == PAIR_GOOD
    assert StageRun.objects.filter(stage="verify", params__problem_ids=[problem.pk]).exists()
    page = c.get(f"/problems/{problem.pk}/").content.decode()
    assert f"Outputs are compared by checker #{candidate.pk}" in page and "approved by curator" in page


def test_edit_puts_the_source_in_the_editor(client, users, problem):
    cand = CheckerCandidate.objects.create(problem=problem, source="import sys\nsys.exit(0)\n", origin="llm", status="rejected", reason="too lenient")
    c = client_for(client, users["curator"])
    partial = c.get(f"/checkers/{cand.pk}/edit/", HTTP_HX_REQUEST="true")
    assert "HX-Request" in partial["Vary"]
    assert f"Edit checker #{cand.pk}" in partial.content.decode() and "sys.exit(0)\n</textarea>" in partial.content.decode()
    plain = c.get(f"/checkers/{cand.pk}/edit/")
    assert plain["Location"].endswith(f"?edit_checker={cand.pk}#checkers")
    assert f"Edit checker #{cand.pk}" in c.get(plain["Location"]).content.decode()


def test_synthesis_starts_a_job(client, users, problem, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = client_for(client, users["curator"]).post(f"/problems/{problem.pk}/checkers/synthesize/")
    run = StageRun.objects.get(stage="checkers")
    assert run.params["problem_ids"] == [problem.pk] and len(callbacks) == 1
    assert r.status_code == 302 and r["Location"] == f"/jobs/{run.pk}/"


def test_viewers_see_checkers_but_cannot_act(client, users, problem):
    cand = CheckerCandidate.objects.create(problem=problem, source=PAIR_GOOD, origin="llm", status="valid", reason="ok")
    c = client_for(client, users["viewer"])
    page = c.get(f"/problems/{problem.pk}/").content.decode()
    assert f"#{cand.pk}" in page and "Approve and re-verify" not in page and 'name="source"' not in page
    assert c.post(f"/checkers/{cand.pk}/approve/").status_code == 403
    assert c.post(f"/problems/{problem.pk}/checkers/save/", {"source": PAIR_GOOD}).status_code == 403
    assert c.post(f"/problems/{problem.pk}/checkers/synthesize/").status_code == 403
    problem.refresh_from_db()
    assert problem.comparison.get("mode", "tokens") != "checker"
