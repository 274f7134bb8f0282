"""Difficulty prediction by an LLM behind any OpenAI-compatible chat-completions endpoint.

Flow per problem: build the versioned prompt (rubric + problem) -> call the endpoint (structured
output where supported) -> strictly parse/validate the five scores -> on an invalid answer send the
bad answer back once with the error named -> otherwise record the problem as failed (never a
default score). Transport failures (timeouts, connection errors, 429, 5xx) are retried with
exponential backoff + jitter, honouring ``Retry-After``. The concurrency semaphore is held only
while a request is in flight, so backoff sleeps do not idle a slot.

Cache: ``predict_many`` looks every problem up by (content hash, model, rubric version, prompt
version) before any call, and stores fresh ``ok`` results afterwards, both in the caller's thread
(so a Django DB-backed cache works from sync code). A rerun therefore makes no calls.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import openai

from ..rubric import DEFAULT_RUBRIC, SCORE_MAX, SCORE_MIN, Rubric, weighted_score
from .base import (
    STATUS_FAILED,
    STATUS_OK,
    CacheKey,
    InMemoryPredictionCache,
    PredictionCache,
    PredictionResult,
    ProblemInput,
    RunUsage,
    mark_cached,
)

PROMPT_VERSION = "v1"
STRUCTURED_MODES = ("auto", "json_schema", "off")
MAX_REASON_CHARS = 300
MAX_STATEMENT_CHARS = 20_000


class ScoreParseError(ValueError):
    """The model's answer is not exactly the JSON object the prompt asked for."""


@dataclass
class LLMConfig:
    base_url: str
    model: str
    api_key: str = "EMPTY"
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout: float = 60.0  # seconds per request
    concurrency: int = 8
    max_retries: int = 6  # transport retries per problem (timeouts, 429, 5xx, connection)
    structured_output: str = "auto"  # auto | json_schema | off
    backoff_initial: float = 0.1  # first retry waits about this long (then x multiplier)
    backoff_multiplier: float = 3.0
    backoff_max: float = 30.0
    jitter: float = 0.2  # +/- fraction of the backoff delay
    retry_after_max: float = 120.0  # cap on a server's Retry-After
    seed: int | None = 0  # jitter RNG seed

    def __post_init__(self) -> None:
        if self.structured_output not in STRUCTURED_MODES:
            raise ValueError(f"structured_output must be one of {STRUCTURED_MODES}")
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")

    def public_dict(self) -> dict[str, Any]:
        """The config without the API key (for run records)."""
        d = dict(self.__dict__)
        d.pop("api_key", None)
        return d


# ---------------------------------------------------------------------------------------------
# Prompt
# ---------------------------------------------------------------------------------------------

def _answer_template(rubric: Rubric) -> str:
    inner = ", ".join(
        f'"{k}": {{"score": <integer {SCORE_MIN}-{SCORE_MAX}>, "reason": "<one line>"}}'
        for k in rubric.keys
    )
    return '{"scores": {' + inner + "}}"


def system_prompt(rubric: Rubric = DEFAULT_RUBRIC) -> str:
    lines = [
        "You are an expert competitive programmer and problem setter. You judge how hard a "
        "programming problem is for a strong reasoning model to solve correctly.",
        "",
        f"Score the problem on each of these {len(rubric.keys)} dimensions with an integer from "
        f"{SCORE_MIN} (trivial) to {SCORE_MAX} (extremely hard), and give a one-line reason "
        "for each score:",
    ]
    for d in rubric.dimensions:
        lines.append(f"- {d.key} (weight {rubric.weights[d.key]:.2f}): {d.description}")
    lines += [
        "",
        "Answer with only this JSON object and nothing else, using exactly these keys:",
        _answer_template(rubric),
    ]
    return "\n".join(lines)


def user_prompt(problem: ProblemInput) -> str:
    statement = problem.statement
    if len(statement) > MAX_STATEMENT_CHARS:
        statement = statement[:MAX_STATEMENT_CHARS] + "\n[... statement truncated ...]"
    parts = ["Rate the difficulty of this problem.", "", "<problem>", f"Title: {problem.title}"]
    parts.append(f"Format: {'function (LeetCode style)' if problem.io_format == 'functional' else 'standard input/output'}")
    if problem.tags:
        parts.append("Tags: " + ", ".join(problem.tags))
    if problem.time_limit_ms:
        parts.append(f"Time limit: {problem.time_limit_ms} ms")
    if problem.memory_limit_mb:
        parts.append(f"Memory limit: {problem.memory_limit_mb} MB")
    parts += ["", statement.strip()]
    if problem.constraints.strip():
        parts += ["", "Constraints:", problem.constraints.strip()]
    parts.append("</problem>")
    return "\n".join(parts)


def build_messages(problem: ProblemInput, rubric: Rubric = DEFAULT_RUBRIC) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": system_prompt(rubric)},
        {"role": "user", "content": user_prompt(problem)},
    ]


def repair_message(error: str, rubric: Rubric = DEFAULT_RUBRIC) -> str:
    return (
        f"Your previous answer could not be used: {error}. Answer again with only the JSON object "
        f"described above: exactly the dimensions {', '.join(rubric.keys)}, each with an integer "
        f"score from {SCORE_MIN} to {SCORE_MAX} and a one-line reason."
    )


def json_schema(rubric: Rubric = DEFAULT_RUBRIC) -> dict[str, Any]:
    entry = {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "minimum": SCORE_MIN, "maximum": SCORE_MAX},
            "reason": {"type": "string"},
        },
        "required": ["score", "reason"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "scores": {
                "type": "object",
                "properties": {k: entry for k in rubric.keys},
                "required": list(rubric.keys),
                "additionalProperties": False,
            }
        },
        "required": ["scores"],
        "additionalProperties": False,
    }


def response_format(rubric: Rubric = DEFAULT_RUBRIC) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": "difficulty_scores", "strict": True, "schema": json_schema(rubric)},
    }


# ---------------------------------------------------------------------------------------------
# Strict parsing
# ---------------------------------------------------------------------------------------------

def extract_json_object(text: str) -> dict[str, Any]:
    """The JSON object with a ``scores`` key in ``text`` (whole text, a fenced block, or embedded)."""
    s = (text or "").strip()
    if not s:
        raise ScoreParseError("the answer is empty")
    first_error = ""
    try:
        obj = json.loads(s)
        if isinstance(obj, dict):
            return obj
        raise ScoreParseError(f"expected a JSON object, got {type(obj).__name__}")
    except json.JSONDecodeError as e:
        first_error = f"{e.msg} at line {e.lineno} column {e.colno}"
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", s):
        try:
            obj, _end = decoder.raw_decode(s, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "scores" in obj:
            return obj
    raise ScoreParseError(f'no valid JSON object with a "scores" key found (JSON error: {first_error})')


def parse_scores(text: str, rubric: Rubric = DEFAULT_RUBRIC) -> tuple[dict[str, int], dict[str, str]]:
    """Strictly parse an answer: exactly the rubric's dimensions, integer scores in 1..10."""
    obj = extract_json_object(text)
    scores_obj = obj.get("scores")
    if not isinstance(scores_obj, dict):
        raise ScoreParseError('"scores" must be a JSON object keyed by dimension')
    keys = set(rubric.keys)
    got = set(scores_obj)
    if got != keys:
        problems = []
        if keys - got:
            problems.append("missing " + ", ".join(sorted(keys - got)))
        if got - keys:
            problems.append("unexpected " + ", ".join(sorted(got - keys)))
        raise ScoreParseError(
            f"expected exactly {len(keys)} dimensions, got {len(got)} ({'; '.join(problems)})"
        )
    scores: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for k in rubric.keys:
        entry = scores_obj[k]
        if not isinstance(entry, dict):
            raise ScoreParseError(f'{k} must be an object with "score" and "reason"')
        if "score" not in entry:
            raise ScoreParseError(f'{k} has no "score"')
        v = entry["score"]
        if isinstance(v, bool) or not isinstance(v, int):
            raise ScoreParseError(f"{k} score must be an integer, got {json.dumps(v)}")
        if not SCORE_MIN <= v <= SCORE_MAX:
            raise ScoreParseError(f"{k} score {v} is out of range {SCORE_MIN}..{SCORE_MAX}")
        reason = entry.get("reason", "")
        if not isinstance(reason, str):
            raise ScoreParseError(f"{k} reason must be a string")
        scores[k] = v
        reasons[k] = " ".join(reason.split())[:MAX_REASON_CHARS]
    return scores, reasons


# ---------------------------------------------------------------------------------------------
# Retry helpers
# ---------------------------------------------------------------------------------------------

def retry_after_seconds(error: BaseException) -> float | None:
    """Seconds from a ``retry-after-ms`` / ``Retry-After`` header (number or HTTP date)."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _is_retryable(error: BaseException) -> bool:
    if isinstance(error, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in (408, 409, 429) or error.status_code >= 500
    return False


def _mentions_response_format(error: openai.BadRequestError) -> bool:
    text = str(error).lower()
    body = getattr(error, "body", None)
    if body is not None:
        text += " " + json.dumps(body, default=str).lower()
    return any(w in text for w in ("response_format", "json_schema", "structured output", "guided"))


@dataclass
class _RunState:
    use_schema: bool
    usage: RunUsage = field(default_factory=RunUsage)


# ---------------------------------------------------------------------------------------------
# Predictor
# ---------------------------------------------------------------------------------------------

class LLMPredictor:
    """``Predictor`` backed by an OpenAI-compatible endpoint."""

    name = "llm"

    def __init__(
        self,
        config: LLMConfig,
        rubric: Rubric = DEFAULT_RUBRIC,
        cache: PredictionCache | None = None,
        prompt_version: str = PROMPT_VERSION,
    ) -> None:
        self.config = config
        self.rubric = rubric
        self.cache: PredictionCache = cache if cache is not None else InMemoryPredictionCache()
        self.prompt_version = prompt_version
        self.last_usage = RunUsage()
        self._rng = random.Random(config.seed)
        self._response_format = response_format(rubric)

    # -- cache ---------------------------------------------------------------------------------
    def cache_key(self, problem: ProblemInput) -> CacheKey:
        return CacheKey(problem.content_hash, self.config.model, self.rubric.version, self.prompt_version)

    # -- public sync API -------------------------------------------------------------------------
    def predict_many(self, problems: Sequence[ProblemInput]) -> list[PredictionResult]:
        """Synchronous wrapper: cache look-up, async calls for the misses, cache write-back."""
        started = time.monotonic()
        problems = list(problems)
        keys = [self.cache_key(p) for p in problems]
        hits = self.cache.get_many(list(dict.fromkeys(keys))) if problems else {}
        results: list[PredictionResult | None] = [None] * len(problems)
        todo: dict[CacheKey, ProblemInput] = {}
        for i, (p, k) in enumerate(zip(problems, keys)):
            if k in hits:
                results[i] = mark_cached(hits[k], p)
            elif k not in todo:
                todo[k] = p  # equal content is predicted once per run
        fresh: dict[CacheKey, PredictionResult] = {}
        usage = RunUsage()
        if todo:
            coro = self._predict_uncached(list(todo.values()))
            fresh_list, usage = _run_coroutine(coro)
            fresh = dict(zip(todo.keys(), fresh_list))
        for i, (p, k) in enumerate(zip(problems, keys)):
            if results[i] is None:
                r = fresh[k]
                if r.problem_id != p.id:  # a duplicate of another problem's content
                    r = mark_cached(r, p)
                results[i] = r
        for k, r in fresh.items():
            if r.status == STATUS_OK:
                self.cache.set(k, r)
        usage.cached = sum(1 for r in results if r is not None and r.cached)
        usage.ok = sum(1 for r in results if r is not None and r.status == STATUS_OK)
        usage.failed = sum(1 for r in results if r is not None and r.status != STATUS_OK)
        usage.wall_seconds = time.monotonic() - started
        self.last_usage = usage
        return [r for r in results if r is not None]

    # -- async core ------------------------------------------------------------------------------
    async def apredict_uncached(self, problems: Sequence[ProblemInput]) -> tuple[list[PredictionResult], RunUsage]:
        """Async core without cache I/O: one result per problem, plus the run's usage."""
        return await self._predict_uncached(list(problems))

    async def _predict_uncached(self, problems: list[ProblemInput]) -> tuple[list[PredictionResult], RunUsage]:
        cfg = self.config
        state = _RunState(use_schema=cfg.structured_output in ("auto", "json_schema"))
        sem = asyncio.Semaphore(cfg.concurrency)
        client = openai.AsyncOpenAI(
            base_url=cfg.base_url, api_key=cfg.api_key, timeout=cfg.timeout, max_retries=0
        )
        try:
            results = await asyncio.gather(
                *(self._predict_one(client, p, sem, state) for p in problems)
            )
        finally:
            await client.close()
        return list(results), state.usage

    def _backoff(self, failures: int, retry_after: float | None) -> float:
        cfg = self.config
        if retry_after is not None:
            # Honour the server: at least Retry-After, plus up to 10% so clients do not stampede.
            ra = min(retry_after, cfg.retry_after_max)
            return ra * (1.0 + 0.1 * self._rng.random())
        base = min(cfg.backoff_max, cfg.backoff_initial * cfg.backoff_multiplier ** (failures - 1))
        return max(0.0, base * (1.0 + cfg.jitter * (2.0 * self._rng.random() - 1.0)))

    def _result(self, problem: ProblemInput, **kw: Any) -> PredictionResult:
        return PredictionResult(
            problem_id=problem.id,
            predictor=self.name,
            model=self.config.model,
            rubric_version=self.rubric.version,
            prompt_version=self.prompt_version,
            content_hash=problem.content_hash,
            **kw,
        )

    async def _predict_one(
        self,
        client: openai.AsyncOpenAI,
        problem: ProblemInput,
        sem: asyncio.Semaphore,
        state: _RunState,
    ) -> PredictionResult:
        cfg = self.config
        messages = build_messages(problem, self.rubric)
        attempts = 0
        transport_failures = 0
        repairs_left = 1
        prompt_tokens = completion_tokens = 0
        last_raw = ""

        def failed(error: str) -> PredictionResult:
            return self._result(
                problem, status=STATUS_FAILED, error=error, attempts=attempts,
                prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                raw_response=last_raw[:2000],
            )

        while True:
            body: dict[str, Any] = {
                "model": cfg.model,
                "messages": messages,
                "temperature": cfg.temperature,
                "max_tokens": cfg.max_tokens,
            }
            use_schema = False
            try:
                async with sem:
                    # Decided once the slot is ours, so a fallback learnt meanwhile applies.
                    use_schema = state.use_schema
                    if use_schema:
                        body["response_format"] = self._response_format
                    attempts += 1
                    state.usage.requests += 1
                    # The client's generic POST (same auth, timeout, error classes as
                    # chat.completions.create) without create()'s per-call recursive transform of
                    # the params, which costs milliseconds of CPU per call and caps throughput.
                    # cast_to=object: the JSON as plain data, no pydantic model per response.
                    completion = await client.post("/chat/completions", body=body, cast_to=object)
            except openai.BadRequestError as e:
                if use_schema and cfg.structured_output == "auto" and _mentions_response_format(e):
                    state.use_schema = False  # the server does not support it: plain text from now on
                    continue
                return failed(f"bad request (400): {_short(e)}")
            except (openai.APIConnectionError, openai.APIStatusError) as e:
                if not _is_retryable(e):
                    return failed(f"{type(e).__name__}: {_short(e)}")
                if transport_failures >= cfg.max_retries:
                    return failed(f"gave up after {attempts} attempts: {type(e).__name__}: {_short(e)}")
                transport_failures += 1
                state.usage.retries += 1
                await asyncio.sleep(self._backoff(transport_failures, retry_after_seconds(e)))
                continue
            except Exception as e:  # noqa: BLE001 - one bad problem must not sink the run
                return failed(f"unexpected error: {type(e).__name__}: {_short(e)}")

            pt, ct, text, n_choices = _read_completion(completion)
            prompt_tokens += pt
            completion_tokens += ct
            state.usage.prompt_tokens += pt
            state.usage.completion_tokens += ct
            choices = [text] if n_choices else []
            last_raw = text
            try:
                if not choices:
                    raise ScoreParseError("the response has no choices")
                scores, reasons = parse_scores(text, self.rubric)
            except ScoreParseError as err:
                if repairs_left > 0:
                    repairs_left -= 1
                    state.usage.repairs += 1
                    messages = messages + [
                        {"role": "assistant", "content": text},
                        {"role": "user", "content": repair_message(str(err), self.rubric)},
                    ]
                    continue
                return failed(f"invalid answer: {err}")
            return self._result(
                problem,
                status=STATUS_OK,
                scores=scores,
                reasons=reasons,
                weighted_score=round(weighted_score(scores, self.rubric), 6),
                attempts=attempts,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )


def _read_completion(data: Any) -> tuple[int, int, str, int]:
    """(prompt tokens, completion tokens, first choice's text, number of choices) from a
    chat-completion response given as plain JSON data (or an object with the same fields)."""
    def get(obj: Any, key: str) -> Any:
        return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)

    usage = get(data, "usage") or {}
    pt = int(get(usage, "prompt_tokens") or 0)
    ct = int(get(usage, "completion_tokens") or 0)
    choices = get(data, "choices") or []
    if not isinstance(choices, list) or not choices:
        return pt, ct, "", 0
    message = get(choices[0], "message") or {}
    content = get(message, "content")
    return pt, ct, content if isinstance(content, str) else "", len(choices)


def _short(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text[:limit]


def _run_coroutine(coro: Any) -> Any:
    """Run ``coro`` to completion from sync code, also when a loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def predict_many(
    problems: Sequence[ProblemInput],
    config: LLMConfig,
    rubric: Rubric = DEFAULT_RUBRIC,
    cache: PredictionCache | None = None,
) -> tuple[list[PredictionResult], RunUsage]:
    """One-shot convenience: predict ``problems`` and return (results, usage)."""
    predictor = LLMPredictor(config, rubric=rubric, cache=cache)
    results = predictor.predict_many(problems)
    return results, predictor.last_usage
