"""Difficulty prediction by an LLM behind any OpenAI-compatible chat-completions endpoint.

Flow per problem: build the versioned prompt (rubric + problem) -> call the endpoint (structured
output where supported) -> strictly parse/validate the five scores -> on an invalid answer send the
bad answer back once with the error named -> otherwise record the problem as failed (never a
default score). The transport — concurrency limit, retries with backoff honouring
``Retry-After``, the structured-output fallback, token counts — is the shared
``curation.llm.client.LLMClient``; this module owns only the rubric prompt and the strict parsing.

Cache: ``predict_many`` looks every problem up by (content hash, model, rubric version, prompt
version) before any call, and stores fresh ``ok`` results afterwards, both in the caller's thread
(so a Django DB-backed cache works from sync code). A rerun therefore makes no calls.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any, Sequence

from curation.llm.client import LLMClient, LLMConfig, run_coroutine
from curation.llm.prompts import io_format_description

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

__all__ = ["LLMConfig", "LLMPredictor", "ScoreParseError", "predict_many", "parse_scores", "build_messages"]

PROMPT_VERSION = "v1"
MAX_REASON_CHARS = 300
MAX_STATEMENT_CHARS = 20_000


class ScoreParseError(ValueError):
    """The model's answer is not exactly the JSON object the prompt asked for."""


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
    parts.append(f"Format: {io_format_description(problem.io_format)}")
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
        self._schema = json_schema(rubric)

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
            fresh_list, usage = run_coroutine(coro)
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
        # One client per run: a structured-output fallback is learnt once and applies to the rest.
        client = LLMClient(self.config)
        repairs = [0]
        async with client:
            results = await asyncio.gather(*(self._predict_one(client, p, repairs) for p in problems))
        usage = RunUsage(requests=client.usage.requests, prompt_tokens=client.usage.prompt_tokens,
                         completion_tokens=client.usage.completion_tokens, retries=client.usage.retries,
                         repairs=repairs[0])
        return list(results), usage

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

    async def _predict_one(self, client: LLMClient, problem: ProblemInput, repairs: list[int]) -> PredictionResult:
        messages = build_messages(problem, self.rubric)
        attempts = prompt_tokens = completion_tokens = 0
        repairs_left = 1
        while True:
            done = await client.acomplete(messages, json_schema=self._schema, schema_name="difficulty_scores")
            attempts += done.attempts
            prompt_tokens += done.prompt_tokens
            completion_tokens += done.completion_tokens
            text = done.text
            try:
                if not done.ok:
                    return self._result(problem, status=STATUS_FAILED, error=done.error, attempts=attempts,
                                        prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
                if not done.texts:
                    raise ScoreParseError("the response has no choices")
                scores, reasons = parse_scores(text, self.rubric)
            except ScoreParseError as err:
                if repairs_left > 0:
                    # The bad answer goes back once with the error named; then the problem fails.
                    repairs_left -= 1
                    repairs[0] += 1
                    messages = messages + [
                        {"role": "assistant", "content": text},
                        {"role": "user", "content": repair_message(str(err), self.rubric)},
                    ]
                    continue
                return self._result(problem, status=STATUS_FAILED, error=f"invalid answer: {err}", attempts=attempts,
                                    prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                                    raw_response=text[:2000])
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
