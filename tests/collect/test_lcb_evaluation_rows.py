"""LiveCodeBench's published evaluation rows import as problems flagged "no tests" (issue 14).

The rows are made by LiveCodeBench's own code (`CodeGenerationProblem.insert_output_evaluation`
from ../shared/peers), the way its runner writes `*_eval_all.json`: the problem's fields, the
graded generations, and `metadata` as a list — no tests.
"""
from __future__ import annotations

import json
import sys

import pytest

from .helpers import FIXTURES, REPO, by_id, run

sys.path.insert(0, str(REPO.parent / "shared" / "peers"))
from lcb_runner.benchmarks.code_generation import CodeGenerationProblem  # noqa: E402


def evaluation_rows() -> list[dict]:
    rows = []
    for line in (FIXTURES / "livecodebench.jsonl").read_text().splitlines():
        try:
            problem = CodeGenerationProblem(**json.loads(line))
        except Exception:  # noqa: BLE001 — fixture rows LiveCodeBench itself cannot load
            continue
        rows.append(problem.insert_output_evaluation(
            output_list=["```python\nprint(1)\n```", "no code"], code_list=["print(1)", ""],
            graded_list=[True, False],
            metadata=[json.dumps({"error_code": -2, "error_message": "Wrong Answer"}), "{}"],
        ))
    return rows


def test_evaluation_rows_import_without_tests_flagged(tmp_path):
    rows = evaluation_rows()
    path = tmp_path / "eval_all.json"
    path.write_text(json.dumps(rows))
    ok, errors = run("livecodebench", path)
    assert errors == []
    assert len(ok) == len(rows) >= 2
    full, _ = run("livecodebench", FIXTURES / "livecodebench.jsonl")
    for problem in ok:
        twin = by_id(full)[problem.external_id]
        assert problem.tests == [] and "no_tests" in problem.flags
        assert (problem.title, problem.statement, problem.platform, problem.contest_date, problem.difficulty_label) == (
            twin.title, twin.statement, twin.platform, twin.contest_date, twin.difficulty_label)
        # Function-call problems keep their entry point, read from the starter code.
        assert (problem.io_format, problem.function_name) == (twin.io_format, twin.function_name)
        assert problem.extra["lcb_evaluation"] == {"metadata_entries": 2, "generations": 2, "passed": 1, "pass@1": 0.5}
        assert "metadata" not in problem.extra or problem.extra["metadata"] == {}


def test_a_bad_evaluation_row_names_its_field_and_the_rest_imports(tmp_path):
    rows = evaluation_rows()
    rows[0]["metadata"] = 17
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    ok, errors = run("livecodebench", path)
    assert len(ok) == len(rows) - 1
    assert [(e.record, e.field) for e in errors] == [("line 1", "metadata")]


@pytest.mark.django_db
def test_evaluation_rows_serve_as_a_benchmark(tmp_path):
    from curation.models import Problem
    from curation.services import imports

    path = tmp_path / "eval_all.json"
    path.write_text(json.dumps(evaluation_rows()))
    run_row = imports.import_run_execute(
        imports.import_run_create(path=str(path), format_name="livecodebench", source_name="lcb-eval").pk)
    assert (run_row.status, run_row.failed_count) == ("succeeded", 0)
    problems = Problem.objects.filter(source__name="lcb-eval")
    assert problems.count() == run_row.created_count >= 2
    assert all("no_tests" in p.flags and p.tests.count() == 0 for p in problems)
