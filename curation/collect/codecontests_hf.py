"""`codecontests-hf`: DeepMind CodeContests rows as published on Hugging Face (JSONL / Parquet).

Fields: name, description, public_tests / private_tests / generated_tests {input: [], output: []},
source (enum), difficulty (enum), solutions / incorrect_solutions {language: [int], solution: []},
cf_contest_id, cf_index, cf_points, cf_rating, cf_tags, is_description_translated,
untranslated_description, time_limit {seconds, nanos}, memory_limit_bytes, input_file, output_file.
"""
from __future__ import annotations

import re
from typing import Any

from .fields import literal, make_tests, opt_str, require, str_list
from .importer import FieldError
from .readers import RowImporter
from .codecontests_dir import CODECONTESTS_DIFFICULTY
from .records import (
    TEST_GENERATED,
    TEST_HIDDEN,
    TEST_SAMPLE,
    CanonicalProblem,
    CanonicalSolution,
)
from .registry import register

SOURCES = {
    0: "",
    1: "codechef",
    2: "codeforces",
    3: "hackerearth",
    4: "codejam",
    5: "atcoder",
    6: "aizu",
}
LANGUAGES = {0: "unknown", 1: "python2", 2: "cpp", 3: "python3", 4: "java"}
KEEP_LANGUAGES = ("python3", "cpp")
MAX_CORRECT_PER_LANGUAGE = 5
MAX_INCORRECT = 3

_CF_NAME = re.compile(r"^(\d+)_([A-Za-z]\d*)\.\s+(.+)$")


def _int(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise FieldError(field, "expected an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FieldError(field, f"expected an integer, got {value!r:.40}") from None


def _tests(row: dict, key: str, kind: str) -> list:
    value = literal(row.get(key), key, dict)
    if not value:
        return []
    inputs = value.get("input") or []
    outputs = value.get("output") or []
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise FieldError(key, "expected {input: [...], output: [...]}")
    return make_tests(inputs, outputs, kind, key)


def _solutions(row: dict, key: str, is_correct: bool) -> tuple[list[CanonicalSolution], dict[str, int]]:
    value = literal(row.get(key), key, dict)
    counts: dict[str, int] = {}
    if not value:
        return [], counts
    langs = value.get("language") or []
    codes = value.get("solution") or []
    if not isinstance(langs, list) or not isinstance(codes, list) or len(langs) != len(codes):
        raise FieldError(key, "expected {language: [...], solution: [...]} of equal length")
    kept: list[CanonicalSolution] = []
    per_lang: dict[str, int] = {}
    for i, (lang, code) in enumerate(zip(langs, codes)):
        name = LANGUAGES.get(lang, str(lang)) if isinstance(lang, int) else str(lang).lower()
        counts[name] = counts.get(name, 0) + 1
        if not isinstance(code, str):
            raise FieldError(f"{key}.solution[{i}]", "expected text")
        if name not in KEEP_LANGUAGES or not code.strip():
            continue
        if is_correct:
            if per_lang.get(name, 0) >= MAX_CORRECT_PER_LANGUAGE:
                continue
        elif len(kept) >= MAX_INCORRECT:
            continue
        per_lang[name] = per_lang.get(name, 0) + 1
        kept.append(CanonicalSolution(code=code, language=name, is_correct=is_correct))
    return kept, counts


@register("codecontests-hf")
class CodeContestsHFImporter(RowImporter):
    description = "DeepMind CodeContests Hugging Face rows (JSONL / Parquet)"

    def parse_row(self, row: dict[str, Any]) -> CanonicalProblem:
        name = require(row, "name").strip()
        description = require(row, "description")
        source_raw = _int(row.get("source"), "source")
        platform = SOURCES.get(source_raw, str(source_raw)) if source_raw is not None else ""
        difficulty_raw = _int(row.get("difficulty"), "difficulty")
        difficulty = CODECONTESTS_DIFFICULTY.get(difficulty_raw, str(difficulty_raw)) if difficulty_raw is not None else ""

        title = name
        contest_id = ""
        index = ""
        cf_contest = _int(row.get("cf_contest_id"), "cf_contest_id")
        if cf_contest:
            contest_id = str(cf_contest)
            index = opt_str(row, "cf_index").strip().upper()
        m = _CF_NAME.match(name)
        if m:
            title = m.group(3).strip()
            contest_id = contest_id or m.group(1)
            index = index or m.group(2).upper()

        tests = (
            _tests(row, "public_tests", TEST_SAMPLE)
            + _tests(row, "private_tests", TEST_HIDDEN)
            + _tests(row, "generated_tests", TEST_GENERATED)
        )
        correct, correct_counts = _solutions(row, "solutions", True)
        incorrect, incorrect_counts = _solutions(row, "incorrect_solutions", False)

        time_limit_ms = None
        tl = literal(row.get("time_limit"), "time_limit", dict)
        if tl:
            seconds = _int(tl.get("seconds"), "time_limit.seconds") or 0
            nanos = _int(tl.get("nanos"), "time_limit.nanos") or 0
            time_limit_ms = seconds * 1000 + nanos // 1_000_000 or None
        mem = _int(row.get("memory_limit_bytes"), "memory_limit_bytes")
        memory_limit_mb = mem // (1024 * 1024) if mem else None

        rating = _int(row.get("cf_rating"), "cf_rating") or None
        url = ""
        if platform == "codeforces" and contest_id and index:
            url = f"https://codeforces.com/problemset/problem/{contest_id}/{index}"

        return CanonicalProblem(
            external_id=name,
            title=title,
            statement=description,
            platform=platform,
            statement_format="markdown",
            contest_id=contest_id,
            problem_index=index,
            url=url,
            time_limit_ms=time_limit_ms,
            memory_limit_mb=memory_limit_mb,
            tags=str_list(row.get("cf_tags"), "cf_tags"),
            difficulty_label=difficulty,
            difficulty_rating=rating,
            tests=tests,
            solutions=correct + incorrect,
            extra={
                "difficulty_raw": difficulty_raw,
                "source_raw": source_raw,
                "cf_points": row.get("cf_points"),
                "is_description_translated": bool(row.get("is_description_translated")),
                "untranslated_description": opt_str(row, "untranslated_description") or None,
                "input_file": opt_str(row, "input_file"),
                "output_file": opt_str(row, "output_file"),
                "solution_counts": correct_counts,
                "incorrect_solution_counts": incorrect_counts,
            },
        )
