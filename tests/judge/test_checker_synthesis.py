"""Checker synthesis core: detection, mutations, and validation in the real sandbox — a good
checker is kept; lenient, token-counting, broken and too-strict ones are discarded with the reason."""
from __future__ import annotations

import pytest

from curation.judge.checker_synthesis import (
    CheckerRejected,
    CheckerTask,
    accepts_many_answers,
    build_messages,
    extract_checker,
    mutations,
    outputs_disagree_in_shape,
    synthesize_checker,
    validate_checker,
)
from tests.fixtures.checkers import BROKEN, COUNT_ONLY, EXACT, LENIENT, PAIR_GOOD

PAIR = CheckerTask(
    title="Any Pair Sum",
    statement="Given n, print two positive integers a and b with a + b = n. If there are several answers, print any of them.",
    tests=(("5\n", "1 4\n"), ("2\n", "1 1\n"), ("10\n", "3 7\n")),
    reference_outputs=("2 3\n", "1 1\n", "5 5\n"),
)


@pytest.mark.parametrize("text, expected", [
    ("If there are several solutions, output any of them.", True),
    ("You may print the edges in any order.", True),
    ("If there exist multiple answers, you are allowed to print any.", True),
    ("Print the minimum number of moves.", False),
])
def test_accepts_many_answers(text, expected):
    assert accepts_many_answers(text) is expected


def test_outputs_disagree_in_shape():
    assert outputs_disagree_in_shape(["1 4\n"], ["2 3\n"])
    assert outputs_disagree_in_shape(["YES\n1 2\n2 3\n"], ["YES\n1 3\n"])  # same verdict, another construction
    assert not outputs_disagree_in_shape(["5\n"], ["6\n"])  # a different single number: just wrong
    assert not outputs_disagree_in_shape(["1 4\n"], ["1 4\n", None])


def test_mutations_are_wrong_by_construction():
    kinds = dict(mutations("YES\n3 1\n4 1\n"))
    assert kinds == {"wrong_number": "YES\n3 1\n5 1\n", "wrong_count": "YES\n3 1\n",
                     "extra_output": "YES\n3 1\n4 1\n1\n", "empty": "", "shuffled": "4 1\n3 1\nYES\n",
                     "yes_no_flipped": "NO\n3 1\n4 1\n"}
    # Same-shaped lines may be valid in another order: no "shuffled" mutant for them.
    assert "shuffled" not in dict(mutations("1 4\n")) and "shuffled" not in dict(mutations("1 2\n3 4\n"))
    assert "shuffled" not in dict(mutations("3\n1 2 3\n", order_matters=False))
    assert dict(mutations("0.500\n"))["wrong_number"] == "1.500\n"


def test_good_checker_is_kept():
    v = validate_checker(PAIR_GOOD, PAIR)
    assert v.ok, v.reason
    assert v.accepted_valid == v.valid_total == 5  # 3 jury answers + 2 different reference answers
    assert all(r == t for r, t in v.rejected_by_kind.values())


@pytest.mark.parametrize("source, reason", [
    (LENIENT, "too lenient: rejects 0 of"),
    (COUNT_ONLY, "accepts most of: wrong_number"),
    (BROKEN, "does not compile"),
    (EXACT, "rejects a correct answer: test 1: rejects the reference solution's answer"),
    ("import sys\nsys.exit(3)\n", "the checker failed on the jury answer"),
])
def test_bad_checkers_are_discarded_with_the_reason(source, reason):
    v = validate_checker(source, PAIR)
    assert not v.ok and reason in v.reason, v.reason


def test_extract_checker():
    assert extract_checker("Sure:\n```python\nimport sys\nsys.exit(0)\n```\n") == "import sys\nsys.exit(0)\n"
    with pytest.raises(CheckerRejected, match="no Python code block"):
        extract_checker("I cannot help with that.")
    with pytest.raises(CheckerRejected, match="does not compile"):
        extract_checker("```python\ndef f(:\n```")


def test_synthesis_retries_with_the_reason_then_keeps_the_good_one():
    prompts = []
    answers = iter([f"```python\n{LENIENT}```", f"```python\n{PAIR_GOOD}```"])

    def complete(messages):
        prompts.append(messages[-1]["content"])
        return next(answers)

    result = synthesize_checker(PAIR, complete)
    assert result.ok and result.source == PAIR_GOOD
    assert [a["reason"].split(":")[0] for a in result.attempts] == ["too lenient", "accepts all 5 correct answers and rejects 12 of 12 wrong outputs"]
    assert "A previous checker was rejected: too lenient" in prompts[1]
    assert "Any Pair Sum" in prompts[0] and "Another correct answer (from a reference solution):\n```\n2 3" in prompts[0]


def test_synthesis_gives_up_after_the_attempts():
    result = synthesize_checker(PAIR, lambda m: f"```python\n{BROKEN}```", attempts=2)
    assert not result.ok and len(result.attempts) == 2 and "does not compile" in result.validation.reason


def test_prompt_shows_at_most_three_tests_and_the_contract():
    task = CheckerTask("T", "S", tests=tuple((f"{i}\n", f"{i}\n") for i in range(6)))
    text = build_messages(task)[-1]["content"]
    assert text.count("### Test") == 3 and "JURY_ANSWER_FILE" in text and "Exit with status 0" in text
