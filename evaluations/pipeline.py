"""Generate and judge samples, overlapped: no Django here, so it runs on a plain thread.

Requests go through the project's one LLM client (`curation.llm.client.LLMClient`: concurrency
limit, retries with backoff honouring Retry-After, token accounting), one request per sample so
every sample has its own cache key and its own retry; each answer is extracted and handed to a judge
thread pool as soon as it arrives, so judging hides behind generation. Identical code for the same
problem is judged once (the test server and low temperatures give many repeats). Results come back
through `emit(event)` — the caller (the service, on its own thread) writes them to the database.

Events: `Generated(sample_id, answer, prompt_tokens, completion_tokens)`,
`Failed(sample_id, error)` (no answer after every retry), `Judged(sample_id, ...)`.
"""
from __future__ import annotations

import asyncio
import concurrent.futures as cf
from dataclasses import dataclass, field
from typing import Any, Callable

from curation.judge import mode as judge_mode
from curation.llm.client import LLMClient, LLMConfig, run_coroutine, sample_cache_key

from . import core

__all__ = ["sample_cache_key", "llm_config", "run_pipeline", "SampleJob", "Generated", "Failed", "Judged"]

# Verdicts for answers that never reach the judge.
NO_CODE = "NO_CODE"
WRONG_LANGUAGE = "LANG"
SANDBOX_ERROR = "SE"


def llm_config(endpoint: dict[str, Any]) -> LLMConfig:
    """The client's config from a run's endpoint fields (base_url, model, api_key, temperature,
    max_tokens, timeout, concurrency)."""
    return LLMConfig(
        base_url=endpoint["base_url"], model=endpoint["model"], api_key=endpoint.get("api_key") or "EMPTY",
        temperature=float(endpoint.get("temperature", 0.2)), max_tokens=int(endpoint.get("max_tokens", 2048)),
        timeout=float(endpoint.get("timeout", 120.0)), concurrency=int(endpoint.get("concurrency", 16)),
        max_retries=int(endpoint.get("max_retries", 8)),
    )


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
    judge_mode: dict = field(default_factory=dict)   # how it was limited (curation.judge.mode); {} if never judged


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
    return Judged(sample_id, ex.code, ex.language, ex.fence_language, verdict, verdict == "AC", tests, error,
                  judge_mode.report_mode(report))


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


def run_pipeline(jobs: list[SampleJob], specs: dict, client: LLMClient, *, emit: Callable[[Any], None],
                 top_p: float | None = None, judge_workers: int = 2, sandbox_config=None,
                 should_stop: Callable[[], bool] | None = None) -> None:
    """Generate what is missing, judge everything, emit every result. Blocks until done.
    `should_stop` (a cancelled run): samples not yet sent are skipped and emit nothing."""
    judges = _JudgePool(specs, sandbox_config, judge_workers)
    try:
        run_coroutine(_run(jobs, client, top_p, judges, emit, should_stop))
    finally:
        judges.close()


async def _run(jobs, client: LLMClient, top_p, judges: _JudgePool, emit, should_stop) -> None:
    loop = asyncio.get_running_loop()

    async def one(job: SampleJob) -> None:
        answer = job.answer
        if answer is None:
            done = await client.acomplete(job.messages, n=1, top_p=top_p)
            if not done.ok or not done.texts:
                emit(Failed(job.sample_id, done.error or "the response has no choices"))
                return
            answer = done.text
            emit(Generated(job.sample_id, answer, done.prompt_tokens, done.completion_tokens))
        result = await asyncio.wrap_future(judges.submit(job, answer), loop=loop)
        emit(Judged(job.sample_id, result.code, result.language, result.fence_language, result.verdict,
                    result.passed, result.tests, result.error, result.judge_mode))

    async with client:
        if should_stop is None:
            await asyncio.gather(*(one(job) for job in jobs))
            return
        # Cancellable: requests wait on the client's concurrency limit, so a stop must cancel
        # the tasks themselves (in flight and queued); what was emitted before stays written.
        tasks = [asyncio.ensure_future(one(job)) for job in jobs]
        pending = set(tasks)
        while pending:
            _done, pending = await asyncio.wait(pending, timeout=0.25, return_when=asyncio.FIRST_EXCEPTION)
            if any(t.done() and not t.cancelled() and t.exception() for t in _done):
                break
            if pending and should_stop():
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                return
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception():
                for other in tasks:
                    other.cancel()
                raise task.exception()
