import json

import openai
import pytest

from curation.difficulty.passrate import (
    GradedResult,
    extract_code,
    extract_code_block,
    parse_graded_results,
    pass_at_k,
    pooled_pass_rates,
)
from tests.fixtures.openai_server import OpenAITestServer


def test_extract_last_python_or_cpp_block():
    text = "First try:\n```python\nprint(1)\n```\nBetter:\n```cpp\nint main(){}\n```\nignore ```text\nx\n```"
    b = extract_code_block(text)
    assert (b.code, b.language, b.fenced) == ("int main(){}", "cpp", True)
    assert extract_code("```py\nprint(2)\n```") == "print(2)"
    assert extract_code("just code\nprint(3)\n") == "just code\nprint(3)"
    assert extract_code("```\nprint(4)\n```") == "print(4)"
    assert extract_code_block("```python\na=1\n```\n```python3\nb=2\n```").code == "b=2"


def test_pass_at_k():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
    assert pass_at_k(4, 3, 2) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_parse_graded_results_layouts(tmp_path):
    entries = [{"question_id": "q1", "graded_list": [True, False, True]},
               {"question_id": "q2", "graded_list": [False, False]}]
    flat = parse_graded_results(entries, model="m1")
    assert flat == [GradedResult("q1", "m1", 3, 2), GradedResult("q2", "m1", 2, 0)]
    assert flat[0].pass_rate == pytest.approx(2 / 3)

    jsonl = "\n".join(json.dumps({**e, "model": "m2"}) for e in entries)
    assert parse_graded_results(jsonl)[0] == GradedResult("q1", "m2", 3, 2)

    wrapped = [{"model": "a", "results": entries}, {"model": "b", "results": [entries[0]]}]
    got = parse_graded_results(json.dumps(wrapped))
    assert GradedResult("q1", "b", 3, 2) in got and len(got) == 3

    by_model = {"x": entries, "y": [{"question_id": 7, "graded_list": [1, 0, 1, 1]}]}
    path = tmp_path / "graded.json"
    path.write_text(json.dumps(by_model))
    got = parse_graded_results(str(path))
    assert GradedResult("7", "y", 4, 3) in got

    # duplicates are summed; pooled rates over models
    dup = parse_graded_results(entries + [entries[0]], model="m")
    assert dup[0] == GradedResult("q1", "m", 6, 4)
    assert pooled_pass_rates(parse_graded_results(wrapped))["q1"] == (6, 4)


def test_parse_graded_results_errors():
    from curation.difficulty.passrate import GradedResultsError

    with pytest.raises(GradedResultsError):
        parse_graded_results([{"graded_list": [True]}])
    with pytest.raises(GradedResultsError):
        parse_graded_results('{"question_id": 1}\nnot json')


def test_server_answers_solve_requests_with_code():
    with OpenAITestServer(solutions={"MARK-1": ["print(1)", "print(2)"]}) as server:
        client = openai.OpenAI(base_url=server.url, api_key="x", max_retries=0)
        resp = client.chat.completions.create(
            model="solver", n=3,
            messages=[{"role": "user", "content": "Solve this problem (MARK-1). Write a solution in Python."}])
        codes = [extract_code(c.message.content) for c in resp.choices]
        assert codes == ["print(1)", "print(2)", "print(1)"]
        assert resp.usage.completion_tokens > 0
        other = client.chat.completions.create(model="solver", messages=[{"role": "user", "content": "Solve X"}])
        assert extract_code(other.choices[0].message.content) == "print(0)"
        assert server.requests[0].kind == "solve"


@pytest.mark.parametrize("entry,reason", [
    ({"question_id": "q", "n": -1, "passes": 0}, "entry q: field n must be between 0 and 1e9"),
    ({"question_id": "q", "n": "many", "passes": 0}, "entry q: field n must be a whole number"),
    ({"question_id": "q", "n": 3, "passes": 1.5}, "entry q: field passes must be a whole number"),
    ({"question_id": "q", "n": True, "passes": 0}, "entry q: field n must be a whole number"),
    ({"question_id": "q", "n": 2, "passes": 3}, "entry q: field passes (3) exceeds n (2)"),
    ({"question_id": {"a": 1}, "graded_list": [True]}, "field question_id must be a short string or number"),
    ({"question_id": "q", "model": "m" * 201, "graded_list": [True]}, "entry q: field model is longer than 200"),
])
def test_counts_are_checked_naming_the_entry_and_field(entry, reason):
    from curation.difficulty.passrate import GradedResultsError

    with pytest.raises(GradedResultsError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_graded_results([entry])
    assert parse_graded_results([{"question_id": "q", "n": "4", "passes": 2.0}])[0].passes == 2  # whole numbers as text or float


def test_uploaded_text_is_never_taken_for_a_path(tmp_path):
    from curation.difficulty.passrate import GradedResultsError, parse_graded_text

    secret = tmp_path / "graded.json"
    secret.write_text(json.dumps([{"question_id": "q", "graded_list": [True]}]))
    assert len(parse_graded_results(str(secret))) == 1  # the command reads a path it is given
    with pytest.raises(GradedResultsError, match="line 1: not JSON"):
        parse_graded_text(str(secret).encode())  # an upload that names a file is just bad JSON
    with pytest.raises(GradedResultsError, match="not UTF-8"):
        parse_graded_text(b"\xff\xfe")
    assert parse_graded_text(b'{"question_id": 7, "graded_list": [1, 0]}\n')[0].question_id == "7"
