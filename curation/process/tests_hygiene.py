"""Test-case hygiene: duplicates, conflicts, empty and oversized tests, and the training subset.

Public API
----------
- ``normalize_test_text(text) -> str``: CRLF → LF, trailing spaces per line and trailing blank
  lines removed (what a token/line comparator ignores anyway).
- ``check_tests(tests, max_bytes=DEFAULT_MAX_TEST_BYTES) -> HygieneReport``
- ``choose_training_tests(tests, cap=32, max_bytes=DEFAULT_MAX_TEST_BYTES) -> Selection``

``tests`` is any sequence of objects with ``input``/``output``/``kind`` attributes
(``CanonicalTest``, a Django row), dicts with those keys, or ``(input, output[, kind])`` tuples.
``kind`` is ``sample`` | ``hidden`` | ``generated`` (default ``hidden``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

TEST_SAMPLE = "sample"
TEST_HIDDEN = "hidden"
TEST_GENERATED = "generated"

DEFAULT_MAX_TEST_BYTES = 1_000_000  # input + output; a 1 MB test costs more to ship than it teaches

FLAG_DUPLICATE = "duplicate"
FLAG_CONFLICTING = "conflicting_outputs"
FLAG_EMPTY = "empty"
FLAG_OVERSIZED = "oversized"


@dataclass(frozen=True)
class CaseView:
    input: str
    output: str
    kind: str = TEST_HIDDEN


def _coerce(t: Any) -> CaseView:
    if isinstance(t, CaseView):
        return t
    if isinstance(t, dict):
        return CaseView(t.get("input") or "", t.get("output") or "", t.get("kind") or TEST_HIDDEN)
    if isinstance(t, (tuple, list)):
        return CaseView(t[0] or "", t[1] or "", (t[2] if len(t) > 2 else None) or TEST_HIDDEN)
    return CaseView(getattr(t, "input", "") or "", getattr(t, "output", "") or "",
                    getattr(t, "kind", None) or TEST_HIDDEN)


def normalize_test_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


@dataclass
class HygieneReport:
    n: int
    flags: dict[int, list[str]] = field(default_factory=dict)  # index → flags
    duplicate_of: dict[int, int] = field(default_factory=dict)  # dropped index → kept index
    conflict_groups: list[list[int]] = field(default_factory=list)  # same input, different outputs
    problem_flags: list[str] = field(default_factory=list)

    @property
    def kept(self) -> list[int]:
        """Indices that survive: not duplicates, not empty, not oversized (conflicts are kept)."""
        bad = {i for i, fl in self.flags.items() if {FLAG_DUPLICATE, FLAG_EMPTY, FLAG_OVERSIZED} & set(fl)}
        return [i for i in range(self.n) if i not in bad]


def check_tests(tests: Sequence[Any], max_bytes: int = DEFAULT_MAX_TEST_BYTES) -> HygieneReport:
    """Flag exact duplicates, same-input/different-output conflicts, empty and oversized tests.

    Duplicates: same normalised input *and* output. The first occurrence is kept, except that a
    sample always wins over a hidden/generated copy (samples are shown in the prompt).
    """
    views = [_coerce(t) for t in tests]
    report = HygieneReport(n=len(views))

    def flag(i: int, f: str) -> None:
        lst = report.flags.setdefault(i, [])
        if f not in lst:
            lst.append(f)

    by_input: dict[str, list[int]] = {}
    norm_out: list[str] = []
    for i, t in enumerate(views):
        ni, no = normalize_test_text(t.input), normalize_test_text(t.output)
        norm_out.append(no)
        if not ni.strip() and not no.strip():
            flag(i, FLAG_EMPTY)
        if len(t.input.encode("utf-8", "replace")) + len(t.output.encode("utf-8", "replace")) > max_bytes:
            flag(i, FLAG_OVERSIZED)
        by_input.setdefault(ni, []).append(i)

    for ni, idxs in by_input.items():
        if len(idxs) < 2:
            continue
        # Samples first, then by position: the first of each output group is kept.
        ordered = sorted(idxs, key=lambda i: (views[i].kind != TEST_SAMPLE, i))
        keeper_by_output: dict[str, int] = {}
        for i in ordered:
            no = norm_out[i]
            if no in keeper_by_output:
                report.duplicate_of[i] = keeper_by_output[no]
                flag(i, FLAG_DUPLICATE)
            else:
                keeper_by_output[no] = i
        if len(keeper_by_output) > 1:
            group = sorted(keeper_by_output.values())
            report.conflict_groups.append(group)
            for i in group:
                flag(i, FLAG_CONFLICTING)

    for f in (FLAG_CONFLICTING, FLAG_DUPLICATE, FLAG_EMPTY, FLAG_OVERSIZED):
        if any(f in fl for fl in report.flags.values()):
            report.problem_flags.append(f)
    return report


# ---------------------------------------------------------------- training subset

REASON_SAMPLE = "sample"
REASON_LARGEST = "largest"
REASON_SHAPE = "distinct_shape"
REASON_QUANTILE = "size_quantile"
REASON_OVER_CAP = "over_cap"


@dataclass
class Selection:
    chosen: list[int]  # indices into the input list, ascending
    reasons: dict[int, str]  # every index → why it was chosen or left out
    report: HygieneReport


def input_shape(text: str) -> tuple:
    """A coarse fingerprint of a test's layout: line-count bucket and the first line's token types."""
    lines = normalize_test_text(text).split("\n")
    first = lines[0].split() if lines else []

    def kind(tok: str) -> str:
        if re.fullmatch(r"[-+]?\d+", tok):
            return "i"
        if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?", tok):
            return "f"
        return "s"

    n_lines = len(lines)
    bucket = 0 if n_lines <= 1 else 1 if n_lines <= 3 else 2 if n_lines <= 10 else 3 if n_lines <= 100 else 4
    return (bucket, min(len(first), 6), tuple(kind(t) for t in first[:6]))


def choose_training_tests(tests: Sequence[Any], cap: int = 32,
                          max_bytes: int = DEFAULT_MAX_TEST_BYTES, n_largest: int | None = None) -> Selection:
    """Pick at most ``cap`` tests for training, deterministically.

    1. Every clean sample (samples are never dropped for the cap, even past it).
    2. The ``n_largest`` biggest hidden/generated inputs (default: a quarter of the remaining
       budget, at least 1): large tests catch slow solutions.
    3. One test per input shape not yet covered (line-count bucket × first-line token types),
       largest first: different shapes exercise different code paths (edge cases such as n=1).
    4. The rest spread over input-size quantiles of what is left.
    Duplicates, empty and oversized tests are never chosen; conflicting ones are allowed.
    """
    views = [_coerce(t) for t in tests]
    report = check_tests(views, max_bytes=max_bytes)
    reasons: dict[int, str] = {}
    for i, fl in report.flags.items():
        for f in (FLAG_DUPLICATE, FLAG_EMPTY, FLAG_OVERSIZED):
            if f in fl:
                reasons[i] = f
                break
    clean = [i for i in range(len(views)) if i not in reasons]
    chosen: list[int] = []
    for i in clean:
        if views[i].kind == TEST_SAMPLE:
            chosen.append(i)
            reasons[i] = REASON_SAMPLE
    pool = [i for i in clean if views[i].kind != TEST_SAMPLE]
    size = {i: len(views[i].input) + len(views[i].output) for i in pool}
    pool.sort(key=lambda i: (-size[i], i))  # largest first, stable on index
    budget = max(0, cap - len(chosen))

    def take(i: int, why: str) -> None:
        nonlocal budget
        chosen.append(i)
        reasons[i] = why
        budget -= 1

    k = n_largest if n_largest is not None else max(1, budget // 4)
    for i in pool[: min(k, budget)]:
        take(i, REASON_LARGEST)
    rest = [i for i in pool if i not in reasons]

    seen_shapes = {input_shape(views[i].input) for i in chosen}
    for i in rest:
        if budget <= 0:
            break
        shape = input_shape(views[i].input)
        if shape not in seen_shapes:
            seen_shapes.add(shape)
            take(i, REASON_SHAPE)
    rest = [i for i in rest if i not in reasons]

    if budget > 0 and rest:
        if budget >= len(rest):
            picks = list(range(len(rest)))
        else:  # evenly spaced positions over the size-sorted remainder (quantiles)
            picks = sorted({round(j * (len(rest) - 1) / max(1, budget - 1)) for j in range(budget)})
            if len(picks) < budget:  # rounding collisions: fill with the first unused positions
                extra = [p for p in range(len(rest)) if p not in set(picks)]
                picks = sorted(picks + extra[: budget - len(picks)])
        for p in picks:
            take(rest[p], REASON_QUANTILE)
    for i in pool:
        reasons.setdefault(i, REASON_OVER_CAP)
    return Selection(chosen=sorted(chosen), reasons=reasons, report=report)
