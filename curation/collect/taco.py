"""`taco`: TACO rows (JSONL / JSON array / Parquet).

Fields: question, solutions (JSON string list), starter_code, input_output (JSON string
{inputs, outputs, fn_name?}), difficulty (EASY, MEDIUM, MEDIUM_HARD, HARD, VERY_HARD,
UNKNOWN_DIFFICULTY), raw_tags, tags, skill_types (Python-literal lists), name, source, url,
Expected Time Complexity, Expected Auxiliary Space, time_limit, memory_limit, date, picture_num.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlparse

from .fields import literal, make_tests, opt_str, require, str_list
from .importer import FieldError
from .readers import RowImporter
from .leetcodedataset import parse_date
from .records import IO_FUNCTIONAL, IO_STDIN, TEST_HIDDEN, CanonicalProblem, CanonicalSolution, CanonicalTest
from .registry import register

MAX_SOLUTIONS = 10  # keep the first few reference solutions; the count goes to extra

_HOSTS = {
    "codeforces.com": "codeforces",
    "atcoder.jp": "atcoder",
    "codechef.com": "codechef",
    "leetcode.com": "leetcode",
    "codewars.com": "codewars",
    "hackerrank.com": "hackerrank",
    "open.kattis.com": "kattis",
    "kattis.com": "kattis",
    "geeksforgeeks.org": "geeksforgeeks",
    "practice.geeksforgeeks.org": "geeksforgeeks",
    "onlinejudge.u-aizu.ac.jp": "aizu",
    "judge.u-aizu.ac.jp": "aizu",
}
_CF_URL = re.compile(r"codeforces\.com/(?:problemset/problem|contest|gym)/(\d+)/(?:problem/)?([A-Za-z]\d*)")


def platform_from_url(url: str) -> str:
    host = urlparse(url).netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    return _HOSTS.get(host, "")


def codeforces_ids(url: str) -> tuple[str, str]:
    m = _CF_URL.search(url or "")
    return (m.group(1), m.group(2).upper()) if m else ("", "")


def parse_io(value: Any, field: str) -> tuple[list[CanonicalTest], str]:
    """`input_output` {inputs, outputs, fn_name?} → (tests, fn_name). Lists become JSON text."""
    io = literal(value, field, dict)
    if not io:
        return [], ""
    inputs = io.get("inputs") or []
    outputs = io.get("outputs") or []
    if not isinstance(inputs, list):
        raise FieldError(f"{field}.inputs", f"expected a list, got {type(inputs).__name__}")
    if not isinstance(outputs, list):
        raise FieldError(f"{field}.outputs", f"expected a list, got {type(outputs).__name__}")
    fn_name = io.get("fn_name") or ""
    if not isinstance(fn_name, str):
        raise FieldError(f"{field}.fn_name", "expected text")
    return make_tests(inputs, outputs, TEST_HIDDEN, field), fn_name


def parse_solutions(value: Any, field: str, language: str = "python3") -> tuple[list[CanonicalSolution], int]:
    sols = literal(value, field, list) or []
    out = []
    for i, code in enumerate(sols):
        if not isinstance(code, str):
            raise FieldError(f"{field}[{i}]", f"expected text, got {type(code).__name__}")
        if code.strip() and len(out) < MAX_SOLUTIONS:
            out.append(CanonicalSolution(code=code, language=language))
    return out, len(sols)


def limit_ms(value: Any) -> int | None:
    """'1 second', '2.5 seconds', '1000 ms', 2 → milliseconds."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(round(float(value) * 1000))
    m = re.search(r"([\d.]+)\s*(ms|millisecond|s|sec|second)?", str(value).lower())
    if not m:
        return None
    try:
        number = float(m.group(1))
    except ValueError:
        return None
    unit = m.group(2) or "s"
    return int(round(number if unit.startswith("m") else number * 1000))


def limit_mb(value: Any) -> int | None:
    """'256 megabytes', '256 MB', 268435456 (bytes) → MiB."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
        return int(value // (1024 * 1024)) if value > 65536 else int(value)
    m = re.search(r"([\d.]+)\s*([kmg]?)", str(value).lower())
    if not m:
        return None
    try:
        number = float(m.group(1))
    except ValueError:
        return None
    scale = {"k": 1 / 1024, "m": 1, "g": 1024, "": 1}[m.group(2)]
    return int(round(number * scale))


TACO_DIFFICULTY = {
    "EASY": "easy",
    "MEDIUM": "medium",
    "MEDIUM_HARD": "medium_hard",
    "HARD": "hard",
    "VERY_HARD": "very_hard",
    "UNKNOWN_DIFFICULTY": "",
}


@register("taco")
class TacoImporter(RowImporter):
    description = "TACO rows (JSONL / JSON array / Parquet)"

    def parse_row(self, row: dict[str, Any]) -> CanonicalProblem:
        question = require(row, "question")
        tests, fn_name = parse_io(row.get("input_output"), "input_output")
        solutions, n_solutions = parse_solutions(row.get("solutions"), "solutions")
        url = opt_str(row, "url").strip()
        source = opt_str(row, "source").strip().lower()
        platform = source or platform_from_url(url)
        name = opt_str(row, "name").strip()

        explicit = row.get("id", row.get("task_id", row.get("problem_id")))
        if explicit not in (None, ""):
            external_id = str(explicit)
        elif url:
            external_id = url
        else:
            external_id = "taco-" + hashlib.sha256(question.encode("utf-8")).hexdigest()[:16]

        difficulty_raw = opt_str(row, "difficulty").strip()
        difficulty = TACO_DIFFICULTY.get(difficulty_raw.upper(), difficulty_raw.lower())
        contest_id, index = codeforces_ids(url) if platform == "codeforces" else ("", "")
        tags = str_list(row.get("tags"), "tags") or str_list(row.get("raw_tags"), "raw_tags")
        date = None
        try:
            date = parse_date(row.get("date"), "date")
        except FieldError:
            date = None  # TACO dates are free text; keep the raw value in extra

        extra = {
            "difficulty_raw": difficulty_raw,
            "source": source,
            "raw_tags": str_list(row.get("raw_tags"), "raw_tags"),
            "skill_types": str_list(row.get("skill_types"), "skill_types"),
            "expected_time_complexity": row.get("Expected Time Complexity"),
            "expected_auxiliary_space": row.get("Expected Auxiliary Space"),
            "date_raw": row.get("date"),
            "picture_num": row.get("picture_num"),
            "time_limit_raw": row.get("time_limit"),
            "memory_limit_raw": row.get("memory_limit"),
            "solutions_total": n_solutions,
        }
        return CanonicalProblem(
            external_id=external_id,
            title=name or _first_line(question),
            statement=question,
            platform=platform,
            statement_format="text",
            contest_id=contest_id,
            problem_index=index,
            contest_date=date,
            url=url,
            io_format=IO_FUNCTIONAL if fn_name else IO_STDIN,
            starter_code=opt_str(row, "starter_code"),
            function_name=fn_name,
            time_limit_ms=limit_ms(row.get("time_limit")),
            memory_limit_mb=limit_mb(row.get("memory_limit")),
            tags=tags,
            difficulty_label=difficulty,
            tests=tests,
            solutions=solutions,
            extra=extra,
        )


def _first_line(text: str, limit: int = 80) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:limit]
    return ""
