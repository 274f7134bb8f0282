"""The pure core: extraction as lcb_runner does it, unbiased pass@k against hand values and
against lcb_runner's pass_k_utils, bootstrap intervals, breakdowns, comparisons, interchange."""
from __future__ import annotations

import json
import math

import pytest

from evaluations import core
from evaluations.core import ProblemResult, pass_at_k
from tests.evaluations import lcb  # noqa: F401 - puts lcb_runner on sys.path

from lcb_runner.evaluation.pass_k_utils import compute_metrics_from_results, estimate_pass_at_k  # noqa: E402
from lcb_runner.lm_styles import LMStyle  # noqa: E402
from lcb_runner.utils.extraction_utils import extract_code as lcb_extract_code  # noqa: E402

ANSWERS = [
    "Here:\n```python\nprint(1)\n```\n",
    "First try:\n```python\nprint(0)\n```\nBetter:\n```python\nn = int(input())\nprint(n)\n```",
    "no code at all, just words",
    "only an opening fence\n```python\nprint(2)",
    "```\nprint(3)\n```",
    "```java\nclass Main {}\n```",
    "```cpp\nint main(){}\n```",
    "text ```python inline ``` more",
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_extraction_matches_lcb_runner(answer):
    ours = core.extract_code(answer)
    assert ours.code == lcb_extract_code(answer, LMStyle.OpenAIChat)


def test_extraction_languages():
    assert core.extract_code(ANSWERS[1]).code == "n = int(input())\nprint(n)"
    assert core.extract_code(ANSWERS[1]).language == "python3"
    assert core.extract_code(ANSWERS[4]).language == "python3"  # untagged: the run's language
    java = core.extract_code(ANSWERS[5])
    assert (java.fence_language, java.language, java.ok) == ("java", None, False)
    assert core.extract_code(ANSWERS[6]).language == "cpp"
    assert not core.extract_code(ANSWERS[2]).ok


def test_pass_at_k_hand_values():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # 1 - C(7,2)/C(10,2) = 1 - 21/45
    assert pass_at_k(10, 3, 2) == pytest.approx(1 - 21 / 45)
    assert pass_at_k(4, 0, 4) == 0.0
    assert pass_at_k(5, 3, 3) == 1.0  # n - c < k
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_pass_at_k_equals_lcb_for_every_k():
    for n in range(1, 12):
        for c in range(0, n + 1):
            for k in range(1, n + 1):
                exact = 1 - math.comb(n - c, k) / math.comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)
                assert pass_at_k(n, c, k) == pytest.approx(float(estimate_pass_at_k(n, [c], k)[0]), abs=1e-15)


def test_graded_file_matches_pass_k_utils(tmp_path):
    """A graded file in eval_all's published format, read back: our pass@k equals lcb_runner's."""
    graded = {
        "1873_A": [True, True, False, True, False],
        "abc301_b": [False] * 5,
        "3000": [True] * 5,
        "2999": [False, True, False, False, False],
    }
    rows = [
        {"question_id": qid, "question_title": qid, "platform": "atcoder", "contest_id": "c", "contest_date": "2024-09-01T00:00:00",
         "difficulty": "easy" if i % 2 else "hard", "code_list": [f"print({j})" for j in range(5)],
         "output_list": ["```python\n...\n```"] * 5, "graded_list": g, "pass@1": sum(g) / len(g)}
        for i, (qid, g) in enumerate(graded.items())
    ]
    path = tmp_path / "eval_all.json"
    path.write_text(json.dumps(rows, indent=4))
    problems, errors = core.lcb_parse_graded(path.read_text())
    assert errors == [] and [p.question_id for p in problems] == list(graded)
    results = core.graded_to_results(problems)
    summary = core.summarize(results, ks=[1, 2, 3, 5])
    theirs = compute_metrics_from_results({qid: [[g] for g in gl] for qid, gl in graded.items()}, k_list=[1, 2, 3, 5])
    for k in (1, 2, 3, 5):
        assert summary["overall"][f"pass@{k}"]["value"] == pytest.approx(theirs[f"pass@{k}"], abs=1e-12)
    # by hand: pass@1 = (3/5 + 0 + 1 + 1/5) / 4
    assert summary["overall"]["pass@1"]["value"] == pytest.approx((0.6 + 0 + 1 + 0.2) / 4)
    assert summary["by"]["label"]["easy"]["pass@1"]["value"] == pytest.approx((0 + 0.2) / 2)
    assert summary["by"]["label"]["hard"]["pass@1"]["value"] == pytest.approx((0.6 + 1) / 2)
    assert summary["by"]["month"]["2024-09"]["problems"] == 4


def test_graded_parse_reports_bad_records_and_keeps_the_rest():
    data = [
        {"question_id": "a", "graded_list": [True, False]},
        {"question_id": "b", "graded_list": "yes"},
        {"graded_list": [True]},
        {"question_id": "a", "graded_list": [True]},
        {"question_id": "c", "graded_list": [[True, True], [True, -1]], "code_list": ["x", "y"]},
        {"question_id": "d", "graded_list": [True], "code_list": ["x", "y"]},
    ]
    problems, errors = core.lcb_parse_graded(data)
    assert [p.question_id for p in problems] == ["a", "c"]
    assert problems[1].graded == [True, False]
    assert [(e.record, e.field) for e in errors] == [
        ("#1 (b)", "graded_list"), ("#2", "question_id"), ("#3 (a)", "question_id"), ("#5 (d)", "code_list"),
    ]
    with pytest.raises(core.InterchangeError) as exc:
        core.lcb_parse_graded("{not json")
    assert exc.value.field == "json"


def test_custom_input_shape():
    out = core.lcb_custom_input([("q1", "a"), ("q2", "b"), ("q1", "c")])
    assert out == [{"question_id": "q1", "code_list": ["a", "c"]}, {"question_id": "q2", "code_list": ["b"]}]


def test_bootstrap_is_deterministic_and_brackets_the_mean():
    values = [0.0, 1.0, 0.5, 0.25, 1.0, 0.0, 0.75]
    lo, hi = core.bootstrap_interval(values)
    assert (lo, hi) == core.bootstrap_interval(values)
    assert lo < sum(values) / len(values) < hi
    assert 0.0 <= lo and hi <= 1.0
    assert core.bootstrap_interval([0.4]) == (0.4, 0.4)
    assert core.bootstrap_interval([1.0] * 5) == (1.0, 1.0)


def test_summarize_skips_k_above_a_groups_samples():
    rows = [ProblemResult("a", 4, 2, {"label": "easy"}), ProblemResult("b", 2, 1, {"label": "hard"})]
    s = core.summarize(rows)
    assert s["ks"] == [1, 2]
    assert set(s["by"]["label"]["easy"]) >= {"pass@1", "pass@2"}
    s4 = core.summarize(rows, ks=[1, 4])
    assert "pass@4" in s4["by"]["label"]["easy"] and "pass@4" not in s4["by"]["label"]["hard"]
    assert "pass@4" not in s4["overall"]
    assert s["by"]["bucket"] == {"unknown": s["by"]["bucket"]["unknown"]}


def test_compare_deltas_and_flips():
    base = [ProblemResult("a", 2, 0, {"label": "easy"}), ProblemResult("b", 2, 2, {"label": "easy"}),
            ProblemResult("c", 2, 1, {"label": "hard"}), ProblemResult("x", 2, 1, {"label": "hard"})]
    other = [ProblemResult("a", 2, 2), ProblemResult("b", 2, 0), ProblemResult("c", 2, 2), ProblemResult("y", 2, 1)]
    cmp = core.compare(base, other)
    assert cmp["common"] == 3 and cmp["only_base"] == ["x"] and cmp["only_other"] == ["y"]
    assert cmp["gained"] == ["a"] and cmp["lost"] == ["b"]
    # pass@1 deltas: a +1, b -1, c +0.5 → mean 1/6
    d = cmp["overall"]["pass@1"]
    assert d["delta"] == pytest.approx(0.5 / 3)
    assert d["low"] <= d["delta"] <= d["high"]
    assert cmp["by"]["label"]["easy"]["pass@1"]["delta"] == pytest.approx(0.0)
    assert cmp["by"]["label"]["hard"]["pass@1"]["delta"] == pytest.approx(0.5)
