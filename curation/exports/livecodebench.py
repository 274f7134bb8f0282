"""LiveCodeBench `code_generation_lite` rows that lcb_runner itself loads and grades.

lcb_runner's `CodeGenerationProblem` is strict: `difficulty` must be easy | medium | hard,
`contest_date` must parse with `datetime.fromisoformat`, tests are JSON lists of
`{input, output, testtype}`, and a functional test's input is one JSON value per argument, one per
line, its output one JSON value (its grader calls `method(*[json.loads(line) ...])`). Our problems
carry source labels ('D', 'very hard', '1900') and LeetCode-style arguments (`nums = [1,2], k = 2`),
so this writer maps them and keeps the originals in `metadata` (a JSON string: LiveCodeBench builds
its problem class from exactly the eleven row keys, so nothing else may be added at the top level).

Pure Python (no Django).
"""
from __future__ import annotations

import json
import re
from typing import Any

from curation.judge.driver import parse_args, parse_literal

from .base import JsonlWriter

LCB_DIFFICULTIES = ("easy", "medium", "hard")
LCB_PLATFORMS = ("leetcode", "codeforces", "atcoder")
# Source labels seen in our importers (APPS/TACO, CodeContests, Kattis, LeetCode) → LCB's three.
LABEL_MAP = {
    "easy": "easy", "introductory": "easy", "beginner": "easy", "trivial": "easy",
    "medium": "medium", "interview": "medium", "moderate": "medium", "normal": "medium", "medium_hard": "medium",
    "hard": "hard", "very hard": "hard", "very_hard": "hard", "competition": "hard", "expert": "hard",
    "harder": "hard", "hardest": "hard", "challenging": "hard",
}
# Codeforces ratings: LiveCodeBench does not publish its cut-offs for Codeforces; these follow the
# usual Div. 2 reading (A–B ≤ 1300 easy, C–D ≤ 1900 medium, beyond hard).
RATING_BOUNDS = ((1300, "easy"), (1900, "medium"))
# A letter index as a label (CodeContests' 'D'): A–B easy, C–D medium, E and later hard.
LETTER_RE = re.compile(r"^([A-Za-z])\d*$")
# Undated problems: lcb_runner needs a parseable date; this one sorts before every real contest
# and metadata says it is not real, so a date window never mistakes it for a recent problem.
UNKNOWN_DATE = "1970-01-01T00:00:00"


def _from_rating(rating: Any) -> str | None:
    if isinstance(rating, bool) or not isinstance(rating, (int, float)):
        return None
    for bound, name in RATING_BOUNDS:
        if rating <= bound:
            return name
    return "hard"


def lcb_difficulty(item: dict[str, Any]) -> tuple[str, str]:
    """(easy | medium | hard, where it came from: label | rating | letter | bucket | default)."""
    label = str(item.get("difficulty_label") or "").strip()
    key = label.lower()
    if key in LABEL_MAP:
        return LABEL_MAP[key], "label"
    if key.isdigit():
        mapped = _from_rating(int(key))
        if mapped:
            return mapped, "rating"
    mapped = _from_rating(item.get("difficulty_rating"))
    if mapped:
        return mapped, "rating"
    m = LETTER_RE.match(label)
    if m:
        letter = m.group(1).upper()
        return ("easy" if letter in "AB" else "medium" if letter in "CD" else "hard"), "letter"
    if item.get("bucket") in LCB_DIFFICULTIES:
        return item["bucket"], "bucket"
    return "medium", "default"


def lcb_date(value: str | None) -> str:
    return f"{value[:10]}T00:00:00" if value else UNKNOWN_DATE


class FunctionalTestError(ValueError):
    pass


def functional_input(text: str) -> str:
    """`nums = [1,2], k = 2` (or a JSON list/object, or one value per line) → `[1, 2]\\n2`."""
    try:
        args, kwargs = parse_args(text)
    except (ValueError, SyntaxError, RecursionError) as exc:
        raise FunctionalTestError(f"input: {exc}") from None
    values = list(args) + list(kwargs.values())
    try:
        return "\n".join(json.dumps(v, ensure_ascii=False) for v in values)
    except (TypeError, ValueError) as exc:
        raise FunctionalTestError(f"input: {exc}") from None


def functional_output(text: str) -> str:
    """A Python or JSON literal (`True`, `[1, 2]`, `'ab'`) → its JSON text (`true`, `[1, 2]`, `"ab"`)."""
    try:
        value = parse_literal(text)
    except (ValueError, SyntaxError, RecursionError) as exc:
        raise FunctionalTestError(f"output: {exc}") from None
    if isinstance(value, tuple):
        value = list(value)
    try:
        # Infinity is not strict JSON, but Python's json (what lcb_runner reads with) takes it.
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise FunctionalTestError(f"output: {exc}") from None


class LiveCodeBenchWriter(JsonlWriter):
    """code_generation_lite rows. `private_test_cases` is plain JSON (LiveCodeBench's loader tries
    json.loads before its pickle fallback), never a pickle."""

    name = "livecodebench"

    def row(self, item: dict[str, Any]) -> dict[str, Any]:
        functional = item.get("io_format") == "functional"
        testtype = "functional" if functional else "stdin"
        public, private, dropped = [], [], []
        for i, t in enumerate(item.get("tests") or []):
            inp, out = t["input"], t["output"]
            if functional:
                try:
                    inp, out = functional_input(inp), functional_output(out)
                except FunctionalTestError as exc:
                    # lcb_runner could not read it either; say which test and why.
                    dropped.append({"test": t.get("ordinal", i), "reason": str(exc)[:200]})
                    continue
            case = {"input": inp, "output": out, "testtype": testtype}
            (public if t.get("kind") == "sample" else private).append(case)
        difficulty, difficulty_source = lcb_difficulty(item)
        metadata: dict[str, Any] = {
            "problem_key": item["problem_key"],
            "split": item.get("split", "train"),
            "difficulty_source": difficulty_source,
            "difficulty_original": item.get("difficulty_label") or "",
            "difficulty_rating": item.get("difficulty_rating"),
            "bucket": item.get("bucket") or "",
        }
        if functional and item.get("function_name"):
            metadata["func_name"] = item["function_name"]
        original_platform = (item.get("platform") or item.get("source") or "").lower()
        platform = original_platform if original_platform in LCB_PLATFORMS else ("leetcode" if functional else "codeforces")
        if platform != original_platform:
            # lcb_runner's Platform enum knows only three; the grader ignores it, the original stays here.
            metadata["platform_original"] = original_platform
        if not item.get("contest_date"):
            metadata["contest_date_unknown"] = True
        if dropped:
            metadata["dropped_tests"] = dropped
        return {
            "question_title": item["title"],
            "question_content": item["statement"],
            "platform": platform,
            "question_id": item["external_id"],
            "contest_id": item.get("contest_id") or "",
            "contest_date": lcb_date(item.get("contest_date")),
            "starter_code": item.get("starter_code") or "",
            "difficulty": difficulty,
            "public_test_cases": json.dumps(public, ensure_ascii=False),
            "private_test_cases": json.dumps(private, ensure_ascii=False),
            "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
        }
