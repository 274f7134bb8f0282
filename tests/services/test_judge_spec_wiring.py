"""The judge spec built from a problem is the one verification, measurement, snapshots and
exports use; a frozen item and an export's ground truth give the same spec back."""
import json

import pytest

from curation.exports import base as export_base
from curation.judge.spec import MAX_TIME_LIMIT_S, JudgeSpec
from curation.models import Problem
from curation.selectors import problem_judge_spec
from curation.services import snapshots, verification
from tests.api.conftest import make_problem

pytestmark = pytest.mark.django_db


def functional_problem():
    return make_problem("f1", io_format="functional", function_name="twoSum", time_limit_ms=1500, memory_limit_mb=128,
                        extra={"entry_point": "Solution().twoSum", "prompt": "from typing import List\n"})


def test_spec_from_a_problem_has_every_judging_fact():
    spec = problem_judge_spec(functional_problem())
    assert (spec.io_format, spec.entry_point, spec.prelude) == ("functional", "Solution().twoSum", "from typing import List\n")
    assert spec.time_limit_s == 1.5 and spec.memory_limit_mb == 256  # CPython's floor over a C++ limit
    assert spec.tests == (("0 1\n", "1\n"), ("1 2\n", "3\n"), ("2 3\n", "5\n"))  # training tests only, in order
    stdin = problem_judge_spec(make_problem("p1"))
    assert (stdin.entry_point, stdin.prelude, stdin.time_limit_s) == (None, None, 6.0)


def test_absurd_limits_are_clamped_not_fatal():
    spec = problem_judge_spec(make_problem("slow", time_limit_ms=10 ** 9))
    assert spec.time_limit_s == MAX_TIME_LIMIT_S


def test_verification_and_snapshot_and_export_share_the_spec():
    problem = functional_problem()
    spec = problem_judge_spec(problem)
    job = verification.problem_job(problem)
    assert job.spec == spec and job.limits.time_s == pytest.approx(1.5 * verification.SOURCE_LIMIT_SLACK)
    assert job.test_ids == list(problem.tests.filter(is_training=True).order_by("ordinal").values_list("pk", flat=True))

    item = snapshots._freeze_batch([problem.pk])[0][1]
    assert item["judge"] == spec.to_dict()
    assert JudgeSpec.from_item(item) == spec
    truth = json.loads(export_base.tests_ground_truth(item))
    assert truth["fn_name"] == "twoSum" and truth["inputs"] == [i for i, _ in spec.tests]  # APPS shape kept
    assert (truth["entry_point"], truth["prelude"], truth["time_limit_s"]) == ("Solution().twoSum", "from typing import List\n", 1.5)
    assert JudgeSpec.from_item(truth) == spec


def test_an_item_frozen_before_the_spec_is_rebuilt_from_its_fields():
    problem = make_problem("p1", time_limit_ms=2000)
    item = snapshots._freeze_batch([problem.pk])[0][1]
    old = {k: v for k, v in item.items() if k != "judge"}
    assert JudgeSpec.from_item(old) == problem_judge_spec(problem)


def test_a_problem_whose_facts_make_no_spec_is_an_error_not_a_crash():
    problem = make_problem("bad", comparison={"mode": "no-such-rule"})
    job = verification.problem_job(problem)
    status, detail, _ = verification.classify(job, problem.statement)
    assert status == "error" and detail.startswith("judge spec: comparison")
    assert Problem.objects.filter(pk=problem.pk).exists()
