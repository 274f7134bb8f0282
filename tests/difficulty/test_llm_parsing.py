import json

import pytest

from curation.difficulty.predictors.base import ProblemInput
from curation.difficulty.predictors.llm import (
    PROMPT_VERSION,
    ScoreParseError,
    build_messages,
    json_schema,
    parse_scores,
    repair_message,
)
from curation.llm.client import LLMConfig, retry_after_seconds
from curation.difficulty.rubric import DIMENSION_KEYS


def answer(scores=None, drop=None, extra=None, **override):
    scores = scores or {k: i + 2 for i, k in enumerate(DIMENSION_KEYS)}
    obj = {k: {"score": v, "reason": f"because {k}"} for k, v in scores.items()}
    if drop:
        obj.pop(drop)
    if extra:
        obj[extra] = {"score": 3, "reason": "x"}
    obj.update(override)
    return json.dumps({"scores": obj})


def test_parse_plain_json():
    scores, reasons = parse_scores(answer())
    assert scores == {k: i + 2 for i, k in enumerate(DIMENSION_KEYS)}
    assert reasons["mathematics"] == "because mathematics"


def test_parse_embedded_and_fenced():
    text = "Sure! Here is my rating:\n```json\n" + answer() + "\n```\nHope this helps {not json}."
    scores, _ = parse_scores(text)
    assert scores["algorithmic_thinking"] == 2


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("no json here", "no valid JSON object"),
    ('{"scores": {"algorithmic_thinking": {"score": 5', "no valid JSON object"),
    ('[1, 2, 3]', "expected a JSON object"),
    ('{"scores": [1, 2]}', '"scores" must be a JSON object'),
    (answer(drop="edge_cases"), "expected exactly 5 dimensions, got 4 (missing edge_cases)"),
    (answer(extra="creativity"), "unexpected creativity"),
    (answer(scores={k: 11 if k == "mathematics" else 5 for k in DIMENSION_KEYS}), "mathematics score 11 is out of range 1..10"),
    (answer(scores={k: 0 for k in DIMENSION_KEYS}), "out of range"),
    (answer(scores={k: 5.5 for k in DIMENSION_KEYS}), "must be an integer"),
    (answer(scores={k: "7" for k in DIMENSION_KEYS}), "must be an integer"),
    (answer(scores={k: True for k in DIMENSION_KEYS}), "must be an integer"),
    (answer(implementation=7), "implementation must be an object"),
    (answer(implementation={"reason": "x"}), 'implementation has no "score"'),
])
def test_parse_rejects(text, message):
    with pytest.raises(ScoreParseError) as exc:
        parse_scores(text)
    assert message in str(exc.value)


def test_prompt_shows_rubric_and_problem():
    p = ProblemInput(id="1", title="Two Sum", statement="Find two numbers.", tags=["hash table"],
                     constraints="1 <= n <= 10^5")
    msgs = build_messages(p)
    assert PROMPT_VERSION == "v1"
    assert msgs[0]["role"] == "system" and msgs[1]["role"] == "user"
    for k in DIMENSION_KEYS:
        assert k in msgs[0]["content"]
    assert "weight 0.30" in msgs[0]["content"]
    assert "<problem>" in msgs[1]["content"] and "Find two numbers." in msgs[1]["content"]
    assert "1 <= n <= 10^5" in msgs[1]["content"] and "hash table" in msgs[1]["content"]
    assert "out of range" in repair_message("x score 11 is out of range 1..10")
    schema = json_schema()
    assert schema["properties"]["scores"]["required"] == list(DIMENSION_KEYS)


def test_config_validation():
    with pytest.raises(ValueError):
        LLMConfig(base_url="http://x", model="m", structured_output="yes")
    with pytest.raises(ValueError):
        LLMConfig(base_url="http://x", model="m", concurrency=0)
    assert "api_key" not in LLMConfig(base_url="http://x", model="m", api_key="secret").public_dict()


def test_retry_after_parsing():
    class R:
        def __init__(self, headers):
            self.headers = headers

    class E(Exception):
        def __init__(self, headers):
            self.response = R(headers)

    assert retry_after_seconds(E({"retry-after": "2"})) == 2.0
    assert retry_after_seconds(E({"retry-after-ms": "250"})) == 0.25
    assert retry_after_seconds(E({})) is None
    assert retry_after_seconds(Exception()) is None
    assert retry_after_seconds(E({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
