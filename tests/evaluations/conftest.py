"""Fixtures for evaluation tests: a benchmark window of problems whose answers the OpenAI-protocol
test server plants by marker (right, wrong, no code, another language, C++, faults)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.api.conftest import api, make_problem, users  # noqa: F401 - fixtures re-exported
from tests.fixtures.openai_server import OpenAITestServer

RIGHT = "Sure.\n```python\na, b = map(int, input().split())\nprint(a + b)\n```\n"
WRONG = "```python\nprint(0)\n```"
NO_CODE = "I cannot solve this one."
JAVA = "```java\nclass Main { public static void main(String[] a) {} }\n```"
RIGHT_CPP = ("```cpp\n#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n```")
# The last fenced block counts, as in LiveCodeBench: a wrong draft then the right program passes.
DRAFT_THEN_RIGHT = "Draft:\n```python\nprint(1)\n```\nFinal:\n" + RIGHT

ANSWERS = {
    "(e1)": [RIGHT, DRAFT_THEN_RIGHT, RIGHT, RIGHT],      # 4/4
    "(e2)": [RIGHT, WRONG, WRONG, WRONG],                 # 1/4
    "(m1)": [NO_CODE, JAVA, RIGHT, RIGHT_CPP],            # 2/4
    "(h1)": [WRONG],                                      # 0/4, behind 429s, a 500 and a timeout
    "(h2)": [RIGHT],                                      # 3/3: one request refused (400)
    "(old)": [RIGHT], "(train)": [RIGHT],
}


@pytest.fixture
def bench(db):
    make = lambda pid, label, date, **kw: make_problem(  # noqa: E731
        pid, source="lcb", is_benchmark=True, benchmark_name="lcb-v6", difficulty_label=label, contest_date=date, **kw)
    return [
        make("e1", "easy", dt.date(2024, 9, 15), bucket="easy"),
        make("e2", "easy", dt.date(2024, 9, 20), bucket="medium"),
        make("m1", "medium", dt.date(2024, 10, 1), bucket="medium", platform="atcoder"),
        make("h1", "hard", dt.date(2024, 10, 5), bucket="hard"),
        make("h2", "hard", dt.date(2024, 11, 2), bucket="hard", platform="leetcode"),
        make("old", "easy", dt.date(2023, 1, 1)),                # before the window
        make_problem("train", source="cf", contest_date=dt.date(2024, 10, 1)),  # not a benchmark
    ]


@pytest.fixture
def server():
    srv = OpenAITestServer(raw_answers=ANSWERS, timeout_sleep=3.0, retry_after=0.05)
    srv.add_fault("429", match="(h1)", times=2, retry_after=0.05)
    srv.add_fault("500", match="(h1)", times=1)
    srv.add_fault("timeout", match="(h1)", times=1)
    srv.add_fault("bad_request", match="(h2)", times=1)
    with srv:
        yield srv
