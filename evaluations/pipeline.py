"""Generate and judge samples, overlapped: no Django here, so it runs on a plain thread.

Requests go out concurrently (up to `concurrency` in flight, one request per sample so every
sample has its own cache key and its own retry); each answer is extracted and handed to a judge
thread pool as soon as it arrives, so judging hides behind generation. Identical code for the same
problem is judged once (the test server and low temperatures give many repeats). Results come back
through `emit(event)` — the caller (the service, on its own thread) writes them to the database.

Events: `Generated(sample_id, answer, prompt_tokens, completion_tokens)`,
`Failed(sample_id, error)` (no answer after every retry), `Judged(sample_id, ...)`.
"""
from __future__ import annotations

import asyncio
import concurrent.futures as cf
import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable

from . import core

# Verdicts for answers that never reach the judge.
NO_CODE = "NO_CODE"
WRONG_LANGUAGE = "LANG"
SANDBOX_ERROR = "SE"


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api_key: str = "none"
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 2048
    timeout_s: float = 120.0
    concurrency: int = 16
    max_retries: int = 8
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0

    @property
    def sampling(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}


def sample_cache_key(model: str, messages: list[dict], index: int, sampling: dict[str, Any]) -> str:
    """What makes an answer reusable: the model, the prompt, which sample, how it was sampled."""
    blob = json.dumps([model, messages, index, sampling], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class SampleJob:
    sample_id: int
    problem_key: Any                  # groups samples of one problem (their judge spec)
    messages: list[dict]
    answer: str | None = None          # already received (a resumed run or the cache): judge only


@dataclass
class Generated:
    sample_id: int
    answer: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Failed:
    sample_id: int
    error: str


@dataclass
class Judged:
    sample_id: int
    code: str
    language: str
    fence_language: str
    verdict: str
    passed: bool
    tests: list = field(default_factory=list)
    error: str = ""


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def _generate(client, endpoint: Endpoint, messages: list[dict]) -> tuple[str, int, int]:
    """One answer, retried on everything transient (429 honouring Retry-After, 5xx, timeouts,
    connection errors, an unreadable body) with exponential backoff and jitter."""
    import openai

    delay = endpoint.backoff_initial_s
    last: Exception | None = None
    for attempt in range(endpoint.max_retries + 1):
        try:
            response = await client.chat.completions.create(
                model=endpoint.model, messages=messages, n=1, **endpoint.sampling,
            )
            choices = getattr(response, "choices", None)
            if not choices:
                raise ValueError("the response has no choices")
            usage = getattr(response, "usage", None)
            return (choices[0].message.content or "", getattr(usage, "prompt_tokens", 0) or 0,
                    getattr(usage, "completion_tokens", 0) or 0)
        except (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError,
                openai.APIResponseValidationError, json.JSONDecodeError, ValueError) as exc:
            last = exc
        except openai.APIStatusError as exc:
            if exc.status_code < 500 and exc.status_code not in (408, 409):
                raise  # a bad request stays bad: no retry
            last = exc
        if attempt == endpoint.max_retries:
            break
        wait = _retry_after(last)
        if wait is None:
            wait = delay * (0.5 + random.random())
            delay = min(delay * 2, endpoint.backoff_max_s)
        await asyncio.sleep(min(wait, endpoint.backoff_max_s))
    assert last is not None
    raise last


def judge_answer(sample_id: int, answer: str, spec, config, default_language: str = "python3") -> Judged:
    """Extract the last fenced block and judge it with the problem's own spec."""
    ex = core.extract_code(answer, default_language)
    if not ex.code.strip():
        return Judged(sample_id, "", "", ex.fence_language, NO_CODE, False)
    if ex.language is None:
        return Judged(sample_id, ex.code, "", ex.fence_language, WRONG_LANGUAGE, False,
                      error=f"a {ex.fence_language} block: this judge runs python3 and cpp")
    try:
        report = spec.judge(ex.code, ex.language, config=config)
    except Exception as exc:  # noqa: BLE001 - the sample records why it was not judged
        return Judged(sample_id, ex.code, ex.language, ex.fence_language, SANDBOX_ERROR, False,
                      error=f"{type(exc).__name__}: {exc}"[:2000])
    verdict = getattr(report.verdict, "value", str(report.verdict))
    tests = [[getattr(t.verdict, "value", str(t.verdict)), round(t.time_wall or 0.0, 4)] for t in report.tests]
    error = (report.compile_output or "")[:2000]
    return Judged(sample_id, ex.code, ex.language, ex.fence_language, verdict, verdict == "AC", tests, error)


class _JudgePool:
    """A thread pool (the judge forks sandboxed processes, so threads suffice) with judging of
    identical code per problem shared."""

    def __init__(self, specs: dict, config, workers: int):
        self.specs = specs
        self.config = config
        self.pool = cf.ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="eval-judge")
        self.memo: dict[tuple, cf.Future] = {}

    def submit(self, job: SampleJob, answer: str) -> cf.Future:
        ex = core.extract_code(answer)
        key = (job.problem_key, ex.language, ex.fence_language, ex.code)
        future = self.memo.get(key)
        if future is None:
            future = self.pool.submit(judge_answer, -1, answer, self.specs[job.problem_key], self.config)
            self.memo[key] = future
        return future

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def run_pipeline(jobs: list[SampleJob], specs: dict, endpoint: Endpoint, *, emit: Callable[[Any], None],
                 judge_workers: int = 2, sandbox_config=None, client=None) -> None:
    """Generate what is missing, judge everything, emit every result. Blocks until done."""
    judges = _JudgePool(specs, sandbox_config, judge_workers)
    try:
        asyncio.run(_run(jobs, endpoint, judges, emit, client))
    finally:
        judges.close()


async def _run(jobs, endpoint: Endpoint, judges: _JudgePool, emit, client) -> None:
    import openai

    own_client = client is None
    if own_client:
        client = openai.AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key or "none",
                                    timeout=endpoint.timeout_s, max_retries=0)
    limit = asyncio.Semaphore(max(1, endpoint.concurrency))
    loop = asyncio.get_running_loop()

    async def judged(job: SampleJob, answer: str) -> None:
        result = await asyncio.wrap_future(judges.submit(job, answer), loop=loop)
        emit(Judged(job.sample_id, result.code, result.language, result.fence_language, result.verdict,
                    result.passed, result.tests, result.error))

    async def one(job: SampleJob) -> None:
        answer = job.answer
        if answer is None:
            async with limit:
                try:
                    answer, p_tok, c_tok = await _generate(client, endpoint, job.messages)
                except Exception as exc:  # noqa: BLE001 - recorded on the sample; the run goes on
                    emit(Failed(job.sample_id, f"{type(exc).__name__}: {exc}"[:2000]))
                    return
            emit(Generated(job.sample_id, answer, p_tok, c_tok))
        await judged(job, answer)

    try:
        await asyncio.gather(*(one(job) for job in jobs))
    finally:
        if own_client:
            await client.close()
