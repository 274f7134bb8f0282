"""The one predictor interface, its input and result records, and the prediction cache."""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping, NamedTuple, Protocol, Sequence, runtime_checkable

from curation.llm.client import Usage

STATUS_OK = "ok"
STATUS_FAILED = "failed"


@dataclass
class ProblemInput:
    """What a predictor needs to know about one problem (plain data, built by the caller)."""

    id: str
    title: str
    statement: str
    content_hash: str = ""  # identity for the cache; computed from the text when empty
    io_format: str = "stdin"  # stdin | functional
    tags: list[str] = field(default_factory=list)
    constraints: str = ""  # constraints text when the source keeps it apart from the statement
    test_count: int = 0
    test_input_bytes: list[int] = field(default_factory=list)  # size of each test input
    sample_count: int = 0
    solution_length: int = 0  # characters of a reference solution (0 = unknown)
    solution_lines: int = 0
    time_limit_ms: int | None = None
    memory_limit_mb: int | None = None
    source: str = ""  # e.g. "codecontests", "leetcode-v0.3.1"
    platform: str = ""  # e.g. "codeforces", "leetcode"

    def __post_init__(self) -> None:
        self.id = str(self.id)
        if not self.content_hash:
            blob = json.dumps(
                [self.title, self.statement, self.constraints, self.io_format, sorted(self.tags)],
                ensure_ascii=False,
            )
            self.content_hash = hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class PredictionResult:
    problem_id: str
    status: str  # ok | failed
    scores: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    weighted_score: float | None = None
    error: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0
    cached: bool = False
    predictor: str = ""  # "llm" | "features"
    model: str = ""
    rubric_version: str = ""
    prompt_version: str = ""
    content_hash: str = ""
    raw_response: str = ""  # last raw answer (debugging failed parses); may be truncated

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PredictionResult":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class RunUsage(Usage):
    """Totals for one ``predict_many`` run: the LLM client's usage (tokens count only fresh
    calls, not cache hits) plus the predictor's own counts."""

    ok: int = 0
    repairs: int = 0  # invalid answers sent back to the model once
    wall_seconds: float = 0.0


@runtime_checkable
class Predictor(Protocol):
    name: str

    def predict_many(self, problems: Sequence[ProblemInput]) -> list[PredictionResult]:
        """One result per problem, in input order. Never raises for a single bad problem."""
        ...


class CacheKey(NamedTuple):
    content_hash: str
    model: str
    rubric_version: str
    prompt_version: str


@runtime_checkable
class PredictionCache(Protocol):
    """Where successful predictions are kept. Only ``ok`` results are stored.

    The Django layer provides a DB-backed implementation; ``get_many`` lets it do one query.
    """

    def get_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, PredictionResult]: ...

    def set(self, key: CacheKey, result: PredictionResult) -> None: ...


class InMemoryPredictionCache:
    def __init__(self) -> None:
        self._data: dict[CacheKey, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, PredictionResult]:
        with self._lock:
            return {k: PredictionResult.from_dict(self._data[k]) for k in keys if k in self._data}

    def get(self, key: CacheKey) -> PredictionResult | None:
        return self.get_many([key]).get(key)

    def set(self, key: CacheKey, result: PredictionResult) -> None:
        if result.status != STATUS_OK:
            return
        with self._lock:
            self._data[key] = result.to_dict()

    def __len__(self) -> int:
        return len(self._data)


def mark_cached(result: PredictionResult, problem: ProblemInput) -> PredictionResult:
    """A cache hit, re-labelled for the problem that asked (ids may differ for equal content)."""
    return replace(result, problem_id=problem.id, cached=True, attempts=0)
