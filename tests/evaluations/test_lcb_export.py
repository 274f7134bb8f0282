"""Our `livecodebench` export, read by LiveCodeBench's own code (../shared/peers/lcb_runner):
every row of the bundled sample (24 Codeforces + 24 LeetCode problems) loads with
`CodeGenerationProblem`, and every problem's reference solution passes lcb_runner's grader
(`check_correctness`) on the exported tests. The grader is not a sandbox: only our reference
solutions go through it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from curation.exports.livecodebench import functional_input, functional_output, lcb_difficulty
from curation.judge.spec import JudgeSpec
from curation.models import Problem
from curation.judge.checker_synthesis import MANY_ANSWERS as ANY_ANSWER
from curation.services import imports
from curation.services.exports import export_create, export_execute
from curation.services.snapshots import snapshot_create
from tests.conftest import REPO_ROOT
from tests.evaluations import lcb  # noqa: F401 - puts lcb_runner on sys.path

SAMPLE = REPO_ROOT / "sample_data"
# References lcb_runner's grader cannot pass although our judge verifies them: it compares output
# exactly, so "print any" problems (which our judge verifies with a checker or relaxed rule) fail,
# and its stdin mock gives `input()` and `sys.stdin.readline()` separate copies of the input.
LCB_MIXED_STDIN = {"1111_d_destroy_the_colony_7405"}


def test_difficulty_mapping_keeps_lcb_values_and_says_where_from():
    assert lcb_difficulty({"difficulty_label": "Hard"}) == ("hard", "label")
    assert lcb_difficulty({"difficulty_label": "very hard"}) == ("hard", "label")
    assert lcb_difficulty({"difficulty_label": "D"}) == ("medium", "letter")
    assert lcb_difficulty({"difficulty_label": "A"}) == ("easy", "letter")
    assert lcb_difficulty({"difficulty_label": "F1"}) == ("hard", "letter")
    assert lcb_difficulty({"difficulty_label": "2100"}) == ("hard", "rating")
    assert lcb_difficulty({"difficulty_label": "D", "difficulty_rating": 1200}) == ("easy", "rating")
    assert lcb_difficulty({"bucket": "medium"}) == ("medium", "bucket")
    assert lcb_difficulty({}) == ("medium", "default")


def test_functional_tests_in_lcb_form():
    assert functional_input("nums = [2,7,11,15], target = 9") == "[2, 7, 11, 15]\n9"
    assert functional_input('s = "ab c", k = -1') == '"ab c"\n-1'
    assert functional_output("True") == "true"
    assert functional_output("'abc'") == '"abc"'
    assert functional_output("(1, 2)") == "[1, 2]"
    assert functional_output("null") == "null"


@pytest.fixture
def sample_export(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for path, fmt, source in (
        (SAMPLE / "codecontests", "codecontests-dir", "codecontests"),
        (SAMPLE / "leetcode" / "LeetCodeDataset-v0.3.1-sample.jsonl.gz", "leetcodedataset", "leetcode"),
    ):
        run = imports.import_run_execute(imports.import_run_create(path=str(path), format_name=fmt, source_name=source).pk)
        assert run.failed_count == 0, run.errors
    assert Problem.objects.count() == 48
    snapshot = snapshot_create(name="lcb-sample", user=None)
    export = export_execute(export_create(snapshot=snapshot, format="livecodebench", user=None).pk)
    assert export.status == "succeeded", export.message
    rows = [json.loads(line) for line in (Path(settings.MEDIA_ROOT) / export.file).read_text().splitlines()]
    refs = {p.external_id: p.solutions.filter(is_correct=True, language="python3").order_by("ordinal").first()
            for p in Problem.objects.all()}
    return rows, refs


def test_lcb_loads_every_row_and_grades_every_reference(sample_export):
    from lcb_runner.benchmarks.code_generation import CodeGenerationProblem
    from lcb_runner.evaluation.compute_code_generation_metrics import check_correctness

    rows, refs = sample_export
    assert len(rows) == 48
    loaded = [CodeGenerationProblem(**row) for row in rows]  # raises on any row LCB rejects
    platforms = sorted(p.platform.value for p in loaded)
    assert platforms.count("codeforces") == 24 and platforms.count("leetcode") == 24
    failures = []
    graded = 0
    for problem in loaded:
        meta = problem.metadata
        assert meta["difficulty_source"] in ("label", "rating", "letter", "bucket", "default")
        assert "dropped_tests" not in meta, (problem.question_id, meta.get("dropped_tests"))
        assert problem.public_test_cases + problem.private_test_cases, problem.question_id
        ref = refs[problem.question_id]
        if ref is None:
            continue
        result, info = check_correctness(problem.get_evaluation_sample(), ref.code, timeout=6, debug=False)
        graded += 1
        if not all(r is True or r == 1 for r in result):
            failures.append((problem.question_id, info.get("error_message"), str(info)[:200]))
    assert graded >= 40
    expected = {qid for qid, row in ((r["question_id"], r) for r in rows) if ANY_ANSWER.search(row["question_content"])}
    expected |= LCB_MIXED_STDIN
    # A reference that our own judge rejects on the same tests is broken in the data (the sample
    # has one: F1's reference is F2's program), not a sign of a bad export.
    by_id = {p.question_id: p for p in loaded}
    broken = set()
    for qid, _msg, _info in failures:
        problem = by_id[qid]
        tests = tuple((t.input, t.output) for t in problem.public_test_cases + problem.private_test_cases)
        report = JudgeSpec(io_format="stdin", tests=tests).judge(refs[qid].code)
        if report.verdict != "AC":
            broken.add(qid)
    unexpected = [f for f in failures if f[0] not in expected | broken]
    assert unexpected == [], "\n".join(map(str, unexpected))
    assert len(failures) <= 3, failures
