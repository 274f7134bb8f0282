"""The one LLM client against the real OpenAI-protocol test server, through the openai package."""
import asyncio

import pytest

from curation.llm.client import InMemoryCompletionCache, LLMClient, LLMConfig, sample_cache_key
from curation.llm.prompts import FORMAT_INSTRUCTIONS, problem_instruction, solve_messages
from curation.process import normalize
from tests.fixtures.openai_server import OpenAITestServer


def client_for(server, **kw):
    return LLMClient(LLMConfig(**{"base_url": server.url, "model": "m", "api_key": "k", "timeout": 5.0,
                                  "backoff_initial": 0.01, **kw}))


def prompt(marker):
    return solve_messages(f"T {marker}", f"statement {marker}", "Write a program.")


def test_one_completion_counts_tokens():
    with OpenAITestServer(solutions={"MARK": "print(42)"}) as server:
        client = client_for(server)
        done = client.complete(prompt("MARK"), max_tokens=77)
        assert done.ok and "print(42)" in done.text and done.attempts == 1
        assert server.requests[0].body["max_tokens"] == 77 and "n" not in server.requests[0].body
        assert client.usage.requests == 1 and client.usage.prompt_tokens == done.prompt_tokens > 0
        assert client.usage.completion_tokens == done.completion_tokens > 0


def test_n_is_one_request_when_the_endpoint_honours_it():
    with OpenAITestServer(solutions={"MARK": ["print(1)", "print(2)", "print(3)"]}) as server:
        rows = client_for(server).sample([prompt("MARK")], 3, temperature=0.8, top_p=0.95, max_tokens=512)
        assert [("print(%d)" % (i + 1)) in s.text for i, s in enumerate(rows[0])] == [True] * 3
        (req,) = server.requests
        assert (req.body["n"], req.body["temperature"], req.body["top_p"]) == (3, 0.8, 0.95)


def test_n_ignored_is_topped_up_by_single_requests_and_remembered():
    with OpenAITestServer(ignore_n=True) as server:
        client = client_for(server)
        rows = client.sample([prompt("A")], 4)
        assert len(rows[0]) == 4 and all(s.text and not s.error for s in rows[0])
        assert len(server.requests) == 4 and not client.n_supported
        server.clear()
        rows = client.sample([prompt("B")], 3)
        assert all(s.text for s in rows[0])
        assert len(server.requests) == 3 and all("n" not in r.body for r in server.requests)


def test_per_sample_cache_asks_only_for_missing_indices():
    cache = InMemoryCompletionCache()
    with OpenAITestServer() as server:
        client = client_for(server)
        first = client.sample([prompt("A"), prompt("B")], 2, temperature=0.5, cache=cache)
        assert len(cache) == 4 and len(server.requests) == 2
        server.clear()
        again = client.sample([prompt("A"), prompt("B")], 3, temperature=0.5, cache=cache)
        assert [s.cached for s in again[0]] == [True, True, False]
        assert [s.text for s in again[0][:2]] == [s.text for s in first[0]]
        assert len(server.requests) == 2 and all("n" not in r.body for r in server.requests)
        assert client.usage.cached == 4
        # Other sampling params are other samples.
        server.clear()
        client.sample([prompt("A")], 1, temperature=0.9, cache=cache)
        assert len(server.requests) == 1
    assert sample_cache_key("m", prompt("A"), 0, {"t": 1}) != sample_cache_key("m", prompt("A"), 1, {"t": 1})


def test_failed_samples_carry_the_error_and_are_not_cached():
    cache = InMemoryCompletionCache()
    with OpenAITestServer() as server:
        server.add_fault("bad_request", match="BROKEN", times=5)
        rows = client_for(server).sample([prompt("BROKEN"), prompt("FINE")], 2, cache=cache)
        assert all("400" in s.error and not s.text for s in rows[0])
        assert all(s.text and not s.error for s in rows[1])
        assert len(cache) == 2


def test_retry_after_and_schema_fallback():
    with OpenAITestServer(reject_response_format=True) as server:
        # The first fault is spent on the request the server refuses for its response_format.
        server.add_fault("429", match="MARK", times=2, retry_after=0.2)
        client = client_for(server)
        done = client.complete(prompt("MARK"), json_schema={"type": "object"}, schema_name="x")
        assert done.ok and not client.use_schema
        assert [r.status for r in server.requests] == [400, 429, 200]
        assert server.requests[2].at - server.requests[1].at >= 0.2
        assert client.usage.retries == 1 and done.attempts == 3


def test_async_callers_share_one_session():
    with OpenAITestServer(latency=0.1) as server:
        client = client_for(server, concurrency=2)

        async def go():
            async with client:
                return await asyncio.gather(*(client.acomplete(prompt(str(i))) for i in range(6)))

        results = asyncio.run(go())
        assert all(r.ok for r in results) and server.max_in_flight <= 2


def test_one_source_of_format_instructions():
    assert normalize.FORMAT_INSTRUCTIONS is FORMAT_INSTRUCTIONS
    stored = "Read from stdin, write to stdout."
    assert problem_instruction(stored, "stdin") == stored
    assert problem_instruction("", "stdin") == normalize.format_instruction("stdin")
    assert "twoSum" in problem_instruction("", "functional", "twoSum")


@pytest.mark.parametrize("bad", [{"concurrency": 0}, {"structured_output": "maybe"}])
def test_config_is_checked(bad):
    with pytest.raises(ValueError):
        LLMConfig(base_url="http://x", model="m", **bad)
