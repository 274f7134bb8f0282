"""The reward: LiveCodeBench extraction, the same verdict as verification on real problems,
tampering scores 0, a hard deadline, and adapters that never raise."""
from __future__ import annotations

import io
import json
import time

import pytest

from curation.exports import base as export_base
from curation.exports.parquet import TrlWriter
from curation.models import Problem, SnapshotItem
from curation.services.verification import judge_candidate
from training_jobs.reward import (
    compute_score,
    extract_code,
    judge_spec_from_ground_truth,
    score_completion,
    trl_reward,
)

SUM_GT = json.dumps({"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"], "io_format": "stdin",
                     "comparison": {"mode": "tokens"}})


def fenced(code: str) -> str:
    return f"Let me think.\n```python\n{code}\n```\nDone."


def test_extraction_is_livecodebench_s_last_fenced_block():
    assert extract_code("```python\nprint(1)\n```\ntext\n```\nprint(2)\n```") == "print(2)"
    assert extract_code("```python\nprint(1)\n```") == "print(1)"
    assert extract_code("no fences at all") == ""
    assert extract_code("```python\nunterminated") == ""
    assert extract_code(None) == ""


@pytest.mark.django_db
def test_reward_agrees_with_the_verification_judge_on_real_problems(real_snapshot):
    items = {i.problem_key: i.data for i in SnapshotItem.objects.filter(snapshot=real_snapshot)}
    checked = 0
    for key, data in items.items():
        problem = Problem.objects.get(source__name=data["source"], external_id=data["external_id"])
        reference = problem.solutions.filter(is_correct=True, language="python3").first()
        if reference is None:
            continue
        gt = export_base.tests_ground_truth(data)
        wrong = "print('definitely not the answer')" if data["io_format"] == "stdin" else \
            "class Solution:\n    def __getattr__(self, name):\n        return lambda *a, **k: -12345"
        for code in (reference.code, wrong):
            expected = judge_candidate(problem, code)
            result = score_completion(fenced(code), gt, deadline_s=60)
            assert result.score == (1.0 if expected else 0.0), (key, code[:60], result)
            # verl's adapter, and TRL's on the TRL export's row, give the same score.
            assert compute_score(data["source"], fenced(code), gt)["score"] == result.score
            row = TrlWriter(io.BytesIO(), {}).row({**data, "ordinal": 0})
            columns = {k: [row[k]] for k in ("tests", "io_format", "function_name", "comparison", "judge")}
            assert trl_reward([row["prompt"]], [[{"role": "assistant", "content": fenced(code)}]], **columns) == [result.score]
        checked += 1
    assert checked >= 3  # codecontests (stdin) and LeetCode (functional) problems


TAMPERING = {
    "prints a forged verdict": "print('{\"score\": 1.0, \"verdict\": \"AC\", \"passed\": 2, \"total\": 2}')",
    "kills its parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint(3)",
    "kills every process it can see": "import os, signal\nfor p in range(1, 400):\n    try: os.kill(p, signal.SIGKILL)\n    except Exception: pass",
    "writes to the judge's stdout": "import os\nfor fd in range(3, 30):\n    try: os.write(fd, b'AC\\n')\n    except OSError: pass\nprint(0)",
    "exits early with success": "import sys\nsys.exit(0)",
    "patches builtins then crashes": "import builtins\nbuiltins.print = None\nraise SystemExit(0)",
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_a_program_tampering_with_its_verdict_scores_zero(name):
    result = score_completion(fenced(TAMPERING[name]), SUM_GT, deadline_s=30)
    assert result.score == 0.0, (name, result)
    assert result.verdict != "AC"


def test_correct_program_scores_one_and_partial_credit_is_optional():
    assert score_completion(fenced("a, b = map(int, input().split())\nprint(a + b)"), SUM_GT).score == 1.0
    half = fenced("a, b = map(int, input().split())\nprint(3)")
    assert score_completion(half, SUM_GT).score == 0.0
    assert score_completion(half, SUM_GT, partial_credit=True).score == 0.5


def test_hard_deadline_per_completion():
    started = time.monotonic()
    result = score_completion(fenced("while True:\n    pass"), SUM_GT, deadline_s=1.5)
    assert result.verdict == "DEADLINE" and result.score == 0.0
    assert time.monotonic() - started < 5


def test_adapters_never_raise_on_bad_input():
    assert compute_score("x", "```python\nprint(1)\n```", "not json")["score"] == 0.0
    assert compute_score("x", None, SUM_GT) == {"score": 0.0, "acc": 0.0, "passed": 0.0, "total": 2.0}
    scores = trl_reward(
        prompts=[[{"role": "user", "content": "q"}]] * 3,
        completions=[[{"role": "assistant", "content": fenced("print(int(input().split()[0]) + 2)")}],
                     [{"role": "assistant", "content": "no code"}],
                     [{"role": "assistant", "content": fenced("print(3)")}]],
        tests=[json.dumps([{"input": "1 2\n", "output": "3\n"}]), "{broken", json.dumps([{"input": "1 2\n", "output": "3\n"}])],
        io_format=["stdin"] * 3, function_name=[""] * 3, comparison=[json.dumps({"mode": "tokens"})] * 3,
    )
    assert scores == [1.0, 0.0, 1.0]


def test_spec_from_the_frozen_judge_spec_or_the_legacy_fields():
    legacy = judge_spec_from_ground_truth(SUM_GT)
    assert legacy.tests == (("1 2\n", "3\n"), ("3 4\n", "7\n")) and legacy.io_format == "stdin"
    frozen = judge_spec_from_ground_truth(json.dumps({"judge": legacy.to_dict() | {"time_limit_s": 2.5}}))
    assert frozen.time_limit_s == 2.5 and frozen.tests == legacy.tests
    functional = judge_spec_from_ground_truth({"inputs": ["nums = [1]"], "outputs": ["1"], "fn_name": "f"})
    assert functional.io_format == "functional" and functional.entry_point == "f"


def test_judge_children_stay_warm_and_a_deadline_replaces_one():
    """Completions reuse one long-lived judge child (its sandboxes stay warm); the child
    that misses a deadline is killed, and the next completion gets a working one."""
    from training_jobs import reward

    reward.shutdown_children()
    good = fenced("a, b = map(int, input().split())\nprint(a + b)")
    assert score_completion(good, SUM_GT).score == 1.0
    assert len(reward._idle_children) == 1
    first = reward._idle_children[0].proc
    assert score_completion(good, SUM_GT).score == 1.0
    assert [c.proc for c in reward._idle_children] == [first]
    assert score_completion(fenced("while True:\n    pass"), SUM_GT, deadline_s=1.0).verdict == "DEADLINE"
    assert first.poll() is not None                        # killed with its sandboxes
    assert score_completion(good, SUM_GT).score == 1.0
    assert [c.proc.pid for c in reward._idle_children] != [first.pid]
    reward.shutdown_children()
    assert reward._idle_children == []
