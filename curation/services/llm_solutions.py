"""Ask a reference model (any OpenAI-compatible endpoint) for k solutions per problem.

Used by pass-rate measurement; the answers are judged by the verification judge afterwards.
Requests run concurrently under the configured limit and retry transient failures.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence

import openai

from curation.models import Problem

SOLVE_PROMPT_VERSION = "v1"


def solve_messages(problem: Problem) -> list[dict]:
    instruction = problem.format_instruction or "Write a complete Python 3 program that reads standard input and writes standard output."
    return [
        {"role": "system", "content": "You are an expert competitive programmer. Solve the problem. Answer with one fenced code block."},
        {"role": "user", "content": f"Solve this problem.\n\n# {problem.title}\n\n{problem.statement}\n\n{instruction}"},
    ]


async def _request_all(problems: Sequence[Problem], config, k: int) -> tuple[dict[int, list[str]], dict]:
    client = openai.AsyncOpenAI(base_url=config.base_url, api_key=config.api_key, timeout=config.timeout, max_retries=0)
    limit = asyncio.Semaphore(config.concurrency)
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    answers: dict[int, list[str]] = {}

    async def one(problem: Problem) -> None:
        delay = config.backoff_initial
        async with limit:
            for attempt in range(config.max_retries + 1):
                try:
                    response = await client.chat.completions.create(
                        model=config.model, messages=solve_messages(problem), n=k,
                        temperature=max(config.temperature, 0.7), max_tokens=max(config.max_tokens, 2048),
                    )
                    break
                except (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError):
                    if attempt == config.max_retries:
                        answers[problem.pk] = []
                        return
                    await asyncio.sleep(delay)
                    delay = min(delay * config.backoff_multiplier, config.backoff_max)
        answers[problem.pk] = [choice.message.content or "" for choice in response.choices][:k]
        if response.usage:
            usage["prompt_tokens"] += response.usage.prompt_tokens
            usage["completion_tokens"] += response.usage.completion_tokens

    try:
        await asyncio.gather(*(one(p) for p in problems))
    finally:
        await client.close()
    return answers, usage


def request_solutions(problems: Sequence[Problem], config, k: int) -> tuple[dict[int, list[str]], dict]:
    """{problem id: [answer text, ...]} and token usage."""
    return asyncio.run(_request_all(problems, config, k))
