"""The judge spec: round trip, validation naming the field, and judging through it."""
import pytest

from curation.judge import Verdict

from .conftest import CONFIG
from curation.judge.spec import JudgeSpec, JudgeSpecError


def test_round_trip_keeps_every_field():
    spec = JudgeSpec(io_format="functional", comparison={"mode": "tokens"}, time_limit_s=1.5,
                     memory_limit_mb=256, tests=(("nums = [1,2]", "3"),), entry_point="Solution().add",
                     prelude="import math\n")
    data = spec.to_dict()
    assert data["version"] == 1 and data["entry_point"] == "Solution().add" and data["prelude"] == "import math\n"
    assert JudgeSpec.from_dict(data) == spec


@pytest.mark.parametrize("data, field", [
    ({"io_format": "interactive"}, "io_format"),
    ({"comparison": "exact"}, "comparison"),
    ({"time_limit_s": 0}, "time_limit_s"),
    ({"time_limit_s": float("inf")}, "time_limit_s"),
    ({"memory_limit_mb": 10 ** 9}, "memory_limit_mb"),
    ({"io_format": "functional"}, "entry_point"),
    ({"tests": [{"input": 1, "output": "2"}]}, "tests[0]"),
    ({"tests": "nope"}, "tests"),
    ({"version": 99}, "version"),
    ([], "spec"),
])
def test_bad_specs_name_the_field(data, field):
    with pytest.raises(JudgeSpecError) as info:
        JudgeSpec.from_dict(data)
    assert info.value.field == field


def test_judge_through_the_spec(sandbox_ok):
    spec = JudgeSpec(tests=(("1 2\n", "3\n"), ("5 5\n", "10\n")), time_limit_s=2.0, memory_limit_mb=256)
    right = spec.judge("a, b = map(int, input().split())\nprint(a + b)\n", config=CONFIG)
    wrong = spec.judge("print(3)\n", config=CONFIG)
    assert right.verdict == Verdict.AC and [t.verdict for t in wrong.tests] == [Verdict.AC, Verdict.WA]
