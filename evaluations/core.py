"""The arithmetic of an evaluation, pure Python (no Django): code extraction, unbiased pass@k,
bootstrap intervals over problems, breakdowns, comparisons and the lcb_runner interchange.

Everything here works on plain per-problem records, so the service, the API, a notebook and the
tests compute the same figures from the same numbers:

    rec = ProblemResult(key="p1", n=10, c=3, groups={"label": "easy", "month": "2024-09"})
    pass_at_k(10, 3, 1) == 0.3
    summarize([rec, ...], ks=(1, 5))
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

# Fence info strings we can judge, mapped to the judge's language names. A block tagged with any
# other language (```java) is a "wrong language" answer: it is stored and counted as failed.
FENCE_LANGUAGES = {
    "python": "python3", "python3": "python3", "py": "python3", "py3": "python3",
    "cpp": "cpp", "c++": "cpp", "cxx": "cpp", "cc": "cpp", "c++17": "cpp", "cpp17": "cpp",
}

BREAKDOWN_DIMENSIONS = ("label", "bucket", "platform", "month")
DIFFICULTY_ORDER = {"easy": 0, "medium": 1, "hard": 2}


def group_order(group: str) -> tuple:
    """Difficulty groups easy → medium → hard, then the rest alphabetically, "unknown" last."""
    return (group == "unknown", DIFFICULTY_ORDER.get(group, 3), group)
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 20260307


class InterchangeError(ValueError):
    """A record of an lcb_runner file we cannot use; names the record and the field."""

    def __init__(self, record: str, field_name: str, message: str):
        super().__init__(f"record {record}, field {field_name}: {message}")
        self.record = record
        self.field = field_name
        self.message = message


# --- extraction -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Extracted:
    code: str              # "" when the answer has no complete fenced block
    fence_language: str    # the block's info string, lower-cased ("" when untagged)
    language: str | None   # the judge language, None when the tag names a language we cannot run

    @property
    def ok(self) -> bool:
        return bool(self.code.strip()) and self.language is not None


def extract_code(answer: str, default_language: str = "python3") -> Extracted:
    """The last fenced block, exactly as lcb_runner's `extract_code` takes it for chat models
    (the lines between the last two lines containing ```), plus the block's language tag."""
    lines = (answer or "").split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return Extracted("", "", default_language)
    code = "\n".join(lines[fences[-2] + 1: fences[-1]])
    info = lines[fences[-2]].split("```", 1)[1].strip().lower()
    tag = info.split()[0] if info else ""
    language = default_language if tag == "" else FENCE_LANGUAGES.get(tag)
    return Extracted(code, tag, language)


# --- pass@k -----------------------------------------------------------------------------------
def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem, 1 - C(n-c, k) / C(n, k) (Chen et al. 2021), computed as
    the numerically stable product lcb_runner and human-eval use."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


@dataclass
class ProblemResult:
    key: str                                   # question id / problem id as text
    n: int                                     # samples
    c: int                                     # correct samples
    groups: dict[str, str] = field(default_factory=dict)   # dimension -> group ("label": "easy")

    def pass_at(self, k: int) -> float:
        return pass_at_k(self.n, self.c, k)


def ks_for(results: Sequence[ProblemResult]) -> list[int]:
    """Every k that every problem supports (k ≤ the smallest n)."""
    if not results:
        return []
    return list(range(1, min(r.n for r in results) + 1))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _bootstrap_indices(m: int, resamples: int, seed: int):
    """Which problems each bootstrap resample draws (resamples × m), the same for a seed."""
    return np.random.default_rng(seed).integers(0, m, size=(resamples, m))


def bootstrap_interval(values: Sequence[float], *, resamples: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, resampling problems with replacement.
    Deterministic for a seed, so a results page shows the same interval on every load."""
    m = len(values)
    if m == 0:
        return (float("nan"), float("nan"))
    if m == 1:
        return (float(values[0]), float(values[0]))
    means = np.sort(np.asarray(values, dtype=float)[_bootstrap_indices(m, resamples, seed)].mean(axis=1))
    lo_i = int(math.floor((1 - level) / 2 * (resamples - 1)))
    hi_i = int(math.ceil((1 + level) / 2 * (resamples - 1)))
    return (float(means[lo_i]), float(means[hi_i]))


def score(results: Sequence[ProblemResult], k: int, *, resamples: int = DEFAULT_BOOTSTRAP,
          seed: int = DEFAULT_SEED) -> dict[str, Any]:
    values = [r.pass_at(k) for r in results]
    lo, hi = bootstrap_interval(values, resamples=resamples, seed=seed)
    return {"value": float(_mean(values)), "low": lo, "high": hi, "problems": len(values)}


def summarize(results: Sequence[ProblemResult], ks: Iterable[int] | None = None, *,
              dimensions: Sequence[str] = BREAKDOWN_DIMENSIONS, resamples: int = DEFAULT_BOOTSTRAP,
              seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """pass@k overall and by every dimension's groups, each with its bootstrap interval:
    {"ks": [...], "overall": {"pass@1": {...}}, "by": {"label": {"easy": {"pass@1": {...}, ...}}}}.
    A k above a group's smallest n is left out of that group (it has no unbiased estimate)."""
    results = list(results)
    ks = sorted(set(ks)) if ks is not None else ks_for(results)

    def block(rows: Sequence[ProblemResult]) -> dict[str, Any]:
        limit = min((r.n for r in rows), default=0)
        out: dict[str, Any] = {"problems": len(rows), "samples": sum(r.n for r in rows),
                               "correct": sum(r.c for r in rows)}
        for k in ks:
            if 1 <= k <= limit:
                out[f"pass@{k}"] = score(rows, k, resamples=resamples, seed=seed)
        return out

    by: dict[str, dict[str, Any]] = {}
    for dim in dimensions:
        groups: dict[str, list[ProblemResult]] = defaultdict(list)
        for r in results:
            groups[r.groups.get(dim) or "unknown"].append(r)
        by[dim] = {g: block(groups[g]) for g in sorted(groups, key=group_order)}
    return {"ks": ks, "overall": block(results), "by": by}


# --- comparison -------------------------------------------------------------------------------
def paired_delta(a: dict[str, ProblemResult], b: dict[str, ProblemResult], k: int, keys: Sequence[str], *,
                 resamples: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """pass@k of b minus a on the same problems, with a paired bootstrap interval (the same
    resampled problems for both sides, so problem difficulty does not widen the interval)."""
    diffs = [b[key].pass_at(k) - a[key].pass_at(k) for key in keys]
    lo, hi = bootstrap_interval(diffs, resamples=resamples, seed=seed)
    return {"delta": _mean(diffs), "low": lo, "high": hi, "problems": len(diffs),
            "base": _mean([a[key].pass_at(k) for key in keys]), "other": _mean([b[key].pass_at(k) for key in keys])}


def compare(base: Sequence[ProblemResult], other: Sequence[ProblemResult], ks: Iterable[int] | None = None, *,
            dimensions: Sequence[str] = ("label", "bucket"), resamples: int = DEFAULT_BOOTSTRAP,
            seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Deltas (other − base) overall and per group on the problems both evaluated, and the
    problems that flipped: solved (any correct sample) by one and not by the other. Groups come
    from the base side."""
    a = {r.key: r for r in base}
    b = {r.key: r for r in other}
    common = sorted(set(a) & set(b))
    limit = min((min(a[k].n, b[k].n) for k in common), default=0)
    ks = [k for k in (sorted(set(ks)) if ks is not None else range(1, limit + 1)) if 1 <= k <= limit]

    def block(keys: Sequence[str]) -> dict[str, Any]:
        return {f"pass@{k}": paired_delta(a, b, k, keys, resamples=resamples, seed=seed) for k in ks}

    by: dict[str, dict[str, Any]] = {}
    for dim in dimensions:
        groups: dict[str, list[str]] = defaultdict(list)
        for key in common:
            groups[a[key].groups.get(dim) or "unknown"].append(key)
        by[dim] = {g: block(groups[g]) for g in sorted(groups, key=group_order)}
    gained = [key for key in common if a[key].c == 0 and b[key].c > 0]
    lost = [key for key in common if a[key].c > 0 and b[key].c == 0]
    return {
        "ks": ks, "common": len(common), "only_base": sorted(set(a) - set(b)), "only_other": sorted(set(b) - set(a)),
        "overall": block(common), "by": by, "gained": gained, "lost": lost,
    }


# --- lcb_runner interchange ----------------------------------------------------------------------
def lcb_custom_input(samples: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Our samples as lcb_runner's custom-evaluator input: `[{question_id, code_list}]`, problems
    in first-seen order, codes in sample order. `samples` yields (question_id, extracted code)."""
    grouped: dict[str, list[str]] = {}
    for qid, code in samples:
        grouped.setdefault(str(qid), []).append(code)
    return [{"question_id": qid, "code_list": codes} for qid, codes in grouped.items()]


@dataclass
class GradedProblem:
    question_id: str
    graded: list[bool]
    codes: list[str]
    difficulty: str = ""
    platform: str = ""
    contest_date: str = ""   # ISO date or ""


def _lcb_bool(value: Any, record: str, field_name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value > 0  # lcb_runner's per-test results: True/1 pass, -1..-4 failures
    if isinstance(value, list):  # a per-test result list: passed only when every test passed
        return bool(value) and all(_lcb_bool(v, record, field_name) for v in value)
    raise InterchangeError(record, field_name, f"expected booleans, got {type(value).__name__}")


def lcb_parse_graded(data: Any) -> tuple[list[GradedProblem], list[InterchangeError]]:
    """lcb_runner's `eval_all` output (a JSON list of per-problem objects with `question_id` and
    `graded_list`, as written by `insert_output_evaluation`) → graded problems. Bad records are
    returned as errors naming record and field; the others are kept."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InterchangeError("file", "json", str(exc)) from None
    if not isinstance(data, list):
        raise InterchangeError("file", "top level", f"expected a list of problems, got {type(data).__name__}")
    problems: list[GradedProblem] = []
    errors: list[InterchangeError] = []
    seen: set[str] = set()
    for i, row in enumerate(data):
        record = f"#{i}"
        try:
            if not isinstance(row, dict):
                raise InterchangeError(record, "row", "expected an object")
            qid = row.get("question_id")
            if not isinstance(qid, (str, int)) or str(qid) == "":
                raise InterchangeError(record, "question_id", "missing")
            record = f"#{i} ({qid})"
            if str(qid) in seen:
                raise InterchangeError(record, "question_id", "appears twice")
            graded = row.get("graded_list")
            if not isinstance(graded, list) or not graded:
                raise InterchangeError(record, "graded_list", "expected a non-empty list")
            graded_b = [_lcb_bool(v, record, "graded_list") for v in graded]
            codes = row.get("code_list") or []
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise InterchangeError(record, "code_list", "expected a list of strings")
            if codes and len(codes) != len(graded_b):
                raise InterchangeError(record, "code_list", f"{len(codes)} codes for {len(graded_b)} grades")
            date = row.get("contest_date") or ""
            if date and not isinstance(date, str):
                raise InterchangeError(record, "contest_date", "expected an ISO date string")
        except InterchangeError as exc:
            errors.append(exc)
            continue
        seen.add(str(qid))
        problems.append(GradedProblem(
            question_id=str(qid), graded=graded_b, codes=list(codes) or [""] * len(graded_b),
            difficulty=str(row.get("difficulty") or ""), platform=str(row.get("platform") or ""),
            contest_date=date[:10],
        ))
    return problems, errors


def graded_to_results(problems: Sequence[GradedProblem]) -> list[ProblemResult]:
    return [
        ProblemResult(key=p.question_id, n=len(p.graded), c=sum(p.graded),
                      groups={"label": p.difficulty or "unknown", "platform": p.platform or "unknown",
                              "month": p.contest_date[:7] if p.contest_date else "unknown"})
        for p in problems
    ]
