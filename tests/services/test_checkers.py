"""Checker synthesis end to end on real Codeforces problems of ../shared/data: the OpenAI-protocol
test server stands in for the LLM (good checkers for three problems, a broken one, lenient ones
for the rest); candidates are validated in the real sandbox; an approved checker turns a
`needs_checker` problem into a verified one."""
from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from curation.models import AuditEvent, CheckerCandidate, Problem, StageRun
from curation.services import checkers, imports, stages
from curation.services.verification import problem_verify
from tests.fixtures.checkers import BROKEN, LENIENT, REAL_GOOD
from tests.fixtures.openai_server import OpenAITestServer

pytestmark = pytest.mark.django_db

FOLDERS = {
    "tree": "1003_e_tree_constructing_1049",
    "product": "1294_c_product_of_three_numbers_4292",
    "sequence": "1454_d_number_into_sequence_7733",
    "game": "1141_a_game_23_2618",  # one answer only: the stand-in LLM writes a broken checker
    "paths": "1144_f_graph_without_long_directed_paths_741",  # the stand-in writes a lenient one
}


@pytest.fixture
def problems(tmp_path, shared_data):
    for name in FOLDERS.values():
        shutil.copytree(shared_data / "codecontests" / name, tmp_path / "cc" / name)
    run = imports.import_run_execute(imports.import_run_create(path=str(tmp_path / "cc"), format_name="codecontests-dir").pk)
    assert run.created_count == len(FOLDERS)
    return {key: Problem.objects.get(external_id=name) for key, name in FOLDERS.items()}


@pytest.fixture
def llm(settings):
    with OpenAITestServer(solutions={**REAL_GOOD, "Game 23": BROKEN}, default_solution=LENIENT) as server:
        settings.LLM_BASE_URL = server.url
        settings.LLM_MODEL = "stand-in-checker-model"
        settings.LLM_API_KEY = "x"
        yield server


def test_synthesis_stage_keeps_good_checkers_and_discards_bad_ones(problems, llm):
    out = StringIO()
    ids = ",".join(str(p.pk) for p in problems.values())
    call_command("synthesize_checkers", "--sync", "--json", "--problem-ids", ids, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["status"] == "succeeded"
    assert summary["counts"] == {"valid": 3, "rejected": 2, "approved": 0, "failed": 0, "skipped": 0}
    assert summary["prompt_tokens"] > 0 and summary["completion_tokens"] > 0  # the one LLM client counts
    status = {key: CheckerCandidate.objects.get(problem=p) for key, p in problems.items()}
    for key in ("tree", "product", "sequence"):
        c = status[key]
        assert (c.status, c.origin, c.model) == ("valid", "llm", "stand-in-checker-model"), c.reason
        assert c.source == REAL_GOOD[p_title(problems[key])]
        assert c.validation["accepted_valid"] == c.validation["valid_total"] > 0
    assert status["game"].status == "rejected" and "does not compile" in status["game"].reason
    assert len(status["game"].validation["attempts"]) == 2  # retried once with the reason
    assert status["paths"].status == "rejected" and status["paths"].reason.startswith("too lenient")
    # The reason reached the model on the retry.
    assert any("A previous checker was rejected" in r.text for r in llm.requests_matching("Game 23"))
    assert AuditEvent.objects.filter(action="checker_llm_valid").count() == 3


def p_title(problem: Problem) -> str:
    return next(t for t in REAL_GOOD if t in problem.title)


def test_approved_checker_verifies_a_print_any_problem(problems, llm, django_capture_on_commit_callbacks):
    tree = problems["tree"]
    assert problem_verify(tree) == "needs_checker"  # the reference builds another valid tree
    candidate = checkers.checker_synthesize(tree)
    assert candidate.status == "valid", candidate.reason
    user = get_user_model().objects.create_user("cur")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        checkers.checker_approve(candidate, user=user)
    assert len(callbacks) == 1  # the verification re-run, dispatched after commit
    tree.refresh_from_db()
    assert tree.comparison["mode"] == "checker" and tree.comparison["checker_candidate"] == candidate.pk
    assert tree.comparison["replaces"] == {"mode": "tokens"}
    run = StageRun.objects.get(stage="verify", params__problem_ids=[tree.pk])
    stages.stage_run_execute(run.pk)
    tree.refresh_from_db()
    assert tree.verification_status == "verified"
    assert AuditEvent.objects.filter(action="checker_approve", target_id=str(tree.pk), actor=user).exists()
    # A second approval supersedes the first.
    again = checkers.checker_save(tree, candidate.source, user=user)
    assert again.status == "valid" and again.origin == "curator"
    checkers.checker_approve(again, user=user, reverify=False)
    candidate.refresh_from_db()
    assert candidate.status == "superseded"


def test_rejected_or_unknown_checkers_cannot_be_approved(problems):
    user = get_user_model().objects.create_user("cur")
    bad = checkers.checker_save(problems["paths"], LENIENT, user=user)
    assert bad.status == "rejected"
    with pytest.raises(checkers.CheckerError, match="only a checker that passed validation"):
        checkers.checker_approve(bad, user=user)
    with pytest.raises(checkers.CheckerError, match="empty"):
        checkers.checker_save(problems["paths"], "  ", user=user)


def test_without_an_llm_the_stage_fails_with_a_clear_message(problems, settings):
    settings.LLM_BASE_URL = ""
    run = stages.stage_run_create(stage="checkers", problem_ids=[problems["tree"].pk])
    run = stages.stage_run_execute(run.pk)
    assert run.status == "failed" and "no LLM endpoint configured" in run.message


def test_likely_needed_from_wording_or_disagreeing_reference(problems):
    tree, game = problems["tree"], problems["game"]
    assert checkers.checker_likely_needed(tree) == (True, "the statement accepts more than one answer")
    likely, _why = checkers.checker_likely_needed(game, checkers.checker_task(game))
    assert likely is False


def test_batch_asks_only_where_a_checker_is_likely(problems, llm):
    Problem.objects.filter(pk=problems["tree"].pk).update(verification_status="needs_checker")
    Problem.objects.filter(pk=problems["game"].pk).update(verification_status="tests_inconsistent")
    Problem.objects.filter(pk=problems["paths"].pk).update(verification_status="needs_checker", flags=["not_judgeable"])
    run = stages.stage_run_execute(stages.stage_run_create(stage="checkers").pk)
    assert run.status == "succeeded"
    assert run.counts == {"valid": 1, "rejected": 0, "approved": 0, "failed": 0, "skipped": 2}
    assert list(CheckerCandidate.objects.values_list("problem_id", flat=True)) == [problems["tree"].pk]
    assert not llm.requests_matching("Game 23")
