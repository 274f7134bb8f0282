"""LLMPredictor against the real HTTP test server, through the real openai client."""
import time

import pytest

from curation.difficulty.predictors.base import (
    STATUS_FAILED,
    STATUS_OK,
    InMemoryPredictionCache,
    Predictor,
    ProblemInput,
)
from curation.difficulty.predictors.llm import LLMPredictor, predict_many
from curation.llm.client import LLMConfig
from curation.difficulty.rubric import DIMENSION_KEYS, weighted_score
from tests.fixtures.openai_server import OpenAITestServer, scores_for


def problems(n, prefix="prob"):
    return [ProblemInput(id=f"{prefix}-{i}", title=f"Problem {prefix}-{i}",
                         statement=f"Statement of {prefix}-{i}: sum n numbers (1 <= n <= 10^5).")
            for i in range(n)]


def make(server, **kw):
    cfg = dict(base_url=server.url, model="test-model", api_key="k", timeout=5.0, concurrency=8)
    cfg.update(kw)
    return LLMPredictor(LLMConfig(**cfg))


def test_happy_path_scores_match_server(server):
    probs = problems(5)
    pred = make(server)
    assert isinstance(pred, Predictor)
    results = pred.predict_many(probs)
    assert [r.problem_id for r in results] == [p.id for p in probs]
    for r in results:
        assert r.status == STATUS_OK and r.attempts == 1 and not r.cached
        assert set(r.scores) == set(DIMENSION_KEYS) and all(r.reasons.values())
        assert r.weighted_score == pytest.approx(weighted_score(r.scores))
        assert (r.model, r.rubric_version, r.prompt_version) == ("test-model", "v1", "v1")
    # The server's answer is derived from the problem text it was sent.
    req = server.requests[0]
    assert req.kind == "score" and req.has_response_format
    assert req.body["response_format"]["type"] == "json_schema"
    assert req.body["model"] == "test-model"
    assert req.headers.get("authorization") == "Bearer k"


def test_token_usage_recorded_and_summed(server):
    pred = make(server)
    results = pred.predict_many(problems(4))
    assert all(r.prompt_tokens > 0 and r.completion_tokens > 0 for r in results)
    u = pred.last_usage
    assert u.requests == 4 and u.ok == 4 and u.failed == 0
    assert u.prompt_tokens == sum(r.prompt_tokens for r in results)
    assert u.completion_tokens == sum(r.completion_tokens for r in results)
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def test_cache_rerun_makes_zero_calls(server):
    cache = InMemoryPredictionCache()
    probs = problems(6)
    first = make(server, structured_output="off")
    first.cache = cache
    r1 = first.predict_many(probs)
    assert len(server.requests) == 6 and len(cache) == 6
    server.clear()
    second = LLMPredictor(first.config, cache=cache)
    r2 = second.predict_many(probs)
    assert server.requests == []
    assert all(r.cached and r.status == STATUS_OK for r in r2)
    assert [r.scores for r in r2] == [r.scores for r in r1]
    assert second.last_usage.requests == 0 and second.last_usage.cached == 6
    assert second.last_usage.total_tokens == 0
    # Another model, rubric or prompt version is another key: calls again.
    third = LLMPredictor(LLMConfig(base_url=server.url, model="other-model"), cache=cache)
    third.predict_many(probs[:2])
    assert len(server.requests) == 2


def test_duplicate_content_is_predicted_once(server):
    a = ProblemInput(id="a", title="T", statement="same text")
    b = ProblemInput(id="b", title="T", statement="same text")
    results = make(server).predict_many([a, b])
    assert len(server.requests) == 1
    assert [r.problem_id for r in results] == ["a", "b"] and results[0].scores == results[1].scores


def test_failed_results_are_not_cached(server):
    server.add_fault("malformed", match="prob-0", times=2)
    pred = make(server)
    r = pred.predict_many(problems(1))[0]
    assert r.status == STATUS_FAILED and len(pred.cache) == 0  # type: ignore[arg-type]
    server.clear()
    r = pred.predict_many(problems(1))[0]
    assert r.status == STATUS_OK and len(server.requests) == 1


def test_429_retry_after_is_honoured(server):
    server.add_fault("429", match="prob-0", times=1, retry_after=0.6)
    r = make(server, backoff_initial=0.01).predict_many(problems(1))[0]
    assert r.status == STATUS_OK and r.attempts == 2
    reqs = server.requests
    assert [q.status for q in reqs] == [429, 200]
    waited = reqs[1].at - reqs[0].at
    assert 0.6 <= waited < 0.6 * 1.1 + 0.4, waited


def test_500_is_retried(server):
    server.add_fault("500", match="prob-0", times=2)
    pred = make(server, backoff_initial=0.01)
    r = pred.predict_many(problems(1))[0]
    assert r.status == STATUS_OK and r.attempts == 3
    assert pred.last_usage.retries == 2


def test_500_gives_up_after_max_retries(server):
    server.add_fault("500", match="prob-0", times=100)
    r = make(server, backoff_initial=0.01, max_retries=2).predict_many(problems(1))[0]
    assert r.status == STATUS_FAILED and r.attempts == 3
    assert "InternalServerError" in r.error and r.scores == {} and r.weighted_score is None


def test_timeout_is_retried():
    with OpenAITestServer(timeout_sleep=3.0) as server:
        server.add_fault("timeout", match="prob-0", times=1)
        t0 = time.monotonic()
        r = make(server, timeout=0.4, backoff_initial=0.01).predict_many(problems(1))[0]
        elapsed = time.monotonic() - t0
        assert r.status == STATUS_OK and r.attempts == 2
        assert elapsed < 2.5  # the client gave up at its timeout, not the server's sleep


def test_non_retryable_400_fails(server):
    server.add_fault("bad_request", match="prob-0", times=1)
    r = make(server).predict_many(problems(1))[0]
    assert r.status == STATUS_FAILED and r.attempts == 1 and "400" in r.error


@pytest.mark.parametrize("fault, error_text", [
    ("malformed", "no valid JSON object"),
    ("out_of_range", "algorithmic_thinking score 11 is out of range 1..10"),
    ("wrong_dims", "expected exactly 5 dimensions, got 4 (missing edge_cases)"),
])
def test_invalid_answer_repaired_once_with_error_shown(server, fault, error_text):
    server.add_fault(fault, match="prob-0", times=1)
    pred = make(server)
    r = pred.predict_many(problems(1))[0]
    assert r.status == STATUS_OK and r.attempts == 2 and pred.last_usage.repairs == 1
    first, second = server.requests
    assert len(second.messages) == len(first.messages) + 2
    assert second.messages[-2]["role"] == "assistant"
    assert second.messages[:-2] == first.messages
    assert second.messages[-1]["role"] == "user" and error_text in second.messages[-1]["content"]
    assert r.scores == scores_for(first.messages[1]["content"].split("<problem>")[1].split("</problem>")[0])


@pytest.mark.parametrize("fault", ["malformed", "out_of_range", "wrong_dims"])
def test_invalid_answer_twice_is_failed_not_defaulted(server, fault):
    server.add_fault(fault, match="prob-0", times=2)
    r = make(server).predict_many(problems(1))[0]
    assert r.status == STATUS_FAILED and r.attempts == 2
    assert r.error.startswith("invalid answer:")
    assert r.scores == {} and r.weighted_score is None  # never a default score
    assert len(server.requests) == 2


def test_structured_output_fallback_on_400():
    with OpenAITestServer(reject_response_format=True) as server:
        pred = make(server, concurrency=1)
        results = pred.predict_many(problems(3))
        assert all(r.status == STATUS_OK for r in results)
        reqs = server.requests
        assert reqs[0].has_response_format and reqs[0].status == 400
        assert [q.has_response_format for q in reqs[1:]] == [False, False, False]  # remembered per run
        assert results[0].attempts == 2


def test_structured_output_forced_fails_on_400():
    with OpenAITestServer(reject_response_format=True) as server:
        r = make(server, structured_output="json_schema").predict_many(problems(1))[0]
        assert r.status == STATUS_FAILED and "400" in r.error


def test_structured_output_off_sends_no_response_format(server):
    make(server, structured_output="off").predict_many(problems(2))
    assert not any(q.has_response_format for q in server.requests)


def test_concurrency_limit_and_parallelism():
    with OpenAITestServer(latency=0.3) as server:
        pred = make(server, concurrency=32)
        t0 = time.monotonic()
        results = pred.predict_many(problems(64))
        elapsed = time.monotonic() - t0
        assert all(r.status == STATUS_OK for r in results)
        assert 16 <= server.max_in_flight <= 32  # 32 unless a loaded machine staggers the first wave
        assert elapsed < 64 * 0.3 / 4  # far from serial (19.2 s); ideal 0.6 s


def test_concurrency_is_bounded():
    with OpenAITestServer(latency=0.05) as server:
        make(server, concurrency=3).predict_many(problems(12))
        assert server.max_in_flight <= 3


def test_fault_rate_mix_loses_nothing_to_transport_faults():
    with OpenAITestServer(latency=0.01, fault_rate=0.3, fault_kinds=("429", "500"), retry_after=0.05) as server:
        pred = make(server, concurrency=16, backoff_initial=0.01)
        results = pred.predict_many(problems(60))
        assert all(r.status == STATUS_OK for r in results)
        assert pred.last_usage.retries > 0
        assert len(server.requests) == 60 + pred.last_usage.retries


def test_module_level_predict_many_and_inside_running_loop(server):
    import asyncio

    cfg = LLMConfig(base_url=server.url, model="m")
    results, usage = predict_many(problems(2), cfg)
    assert usage.ok == 2 and all(r.ok for r in results)

    async def inside():  # e.g. called from async code: runs the loop in a worker thread
        return LLMPredictor(cfg).predict_many(problems(2, "loop"))

    assert all(r.ok for r in asyncio.run(inside()))


def test_planted_scores_marker(server):
    p = ProblemInput(id="x", title="x", statement="Hard one [[scores: 9,8,7,6,5]]")
    q = ProblemInput(id="y", title="y", statement="Level [[difficulty: 3]]")
    r1, r2 = make(server).predict_many([p, q])
    assert list(r1.scores.values()) == [9, 8, 7, 6, 5]
    assert set(r2.scores.values()) == {3}
