"""`leetcodedataset`: LeetCodeDataset JSONL (.jsonl or .jsonl.gz), layouts v0.3.x and v0.2.0.

v0.3.1: task_id, question_id, difficulty, tags, problem_description, starter_code,
        estimated_date, prompt, completion, entry_point, test, input_output, query, response.
v0.2.0: task_id, prompt, completion, entry_point, test, query, response, input_output and
        `meta` {question_id, difficulty, question_title (the description), lang_code, ...}.
`tags`, `input_output` and `meta` may be JSON values or Python-literal strings.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .fields import literal, normalise_difficulty, opt_str, require, str_list
from .importer import FieldError
from .readers import RowImporter
from .records import IO_FUNCTIONAL, TEST_HIDDEN, CanonicalProblem, CanonicalSolution, CanonicalTest
from .registry import register

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with", "from", "into", "vs"}


def title_from_slug(slug: str) -> str:
    """'two-sum' → 'Two Sum'; 'find-the-k-th-character-in-string-game-i' keeps roman numerals."""
    words = [w for w in slug.split("-") if w]
    out = []
    for i, w in enumerate(words):
        if re.fullmatch(r"[ivx]+", w) and i == len(words) - 1:
            out.append(w.upper())
        elif i and w in _SMALL_WORDS:
            out.append(w)
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)


INVALID_OUTPUT_PREFIXES = ("Error:", "Execution timed out")


def function_name_from_entry_point(entry_point: str) -> str:
    """'Solution().twoSum' → 'twoSum'."""
    name = entry_point.strip().rsplit(".", 1)[-1].strip()
    return name.rstrip("()")


def parse_date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value if not isinstance(value, dt.datetime) else value.date()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise FieldError(field, f"not an ISO date: {text[:40]!r}") from None


@register("leetcodedataset")
class LeetCodeDatasetImporter(RowImporter):
    description = "LeetCodeDataset JSONL (v0.3.x top-level keys or v0.2.0 'meta' layout)"

    def parse_row(self, row: dict[str, Any]) -> CanonicalProblem:
        task_id = require(row, "task_id").strip()
        meta = literal(row.get("meta"), "meta", dict) or {}
        layout = "v0.2" if meta and "problem_description" not in row else "v0.3"

        def pick(key: str) -> Any:
            value = row.get(key)
            if value is None:
                value = meta.get(key)
            return value

        if layout == "v0.3":
            statement = row.get("problem_description")
            statement_field = "problem_description"
        else:
            statement = meta.get("question_title") or meta.get("problem_description") or meta.get("description")
            statement_field = "meta.question_title"
            if not statement:
                statement = _statement_from_query(row.get("query"))
                statement_field = "query" if statement else statement_field
        if not isinstance(statement, str) or not statement.strip():
            raise FieldError(statement_field if layout == "v0.2" else "problem_description", "required field is missing or empty")

        difficulty_raw = pick("difficulty")
        difficulty = normalise_difficulty(difficulty_raw)
        if difficulty and difficulty not in ("easy", "medium", "hard"):
            raise FieldError("difficulty" if layout == "v0.3" else "meta.difficulty", f"unknown difficulty {difficulty_raw!r}")

        entry_point = opt_str(row, "entry_point")
        function_name = function_name_from_entry_point(entry_point) if entry_point else ""
        if layout == "v0.3":
            starter_code = opt_str(row, "starter_code")
        else:
            starter_code = meta.get("lang_code") or meta.get("starter_code") or ""
            if not isinstance(starter_code, str):
                raise FieldError("meta.lang_code", "expected text")

        io = literal(row.get("input_output"), "input_output", list) or []
        tests = []
        dropped = 0
        for i, case in enumerate(io):
            if not isinstance(case, dict):
                raise FieldError(f"input_output[{i}]", f"expected an object, got {type(case).__name__}")
            for key in ("input", "output"):
                if key not in case or case[key] is None:
                    raise FieldError(f"input_output[{i}].{key}", "missing")
            output = _as_text(case["output"])
            if output.startswith(INVALID_OUTPUT_PREFIXES):
                # The dataset's generator stored the reference's failure ("Error: ...",
                # "Execution timed out") as the expected output: not a test.
                dropped += 1
                continue
            tests.append(CanonicalTest(input=_as_text(case["input"]), output=output, kind=TEST_HIDDEN))

        tags_value = row.get("tags", meta.get("tags"))
        tags = str_list(tags_value, "tags")

        completion = opt_str(row, "completion")
        solutions = [CanonicalSolution(code=completion, language="python3")] if completion.strip() else []

        question_id = pick("question_id")
        contest_date = parse_date(pick("estimated_date"), "estimated_date")
        title = meta.get("title") if isinstance(meta.get("title"), str) else ""
        if not title:
            title = title_from_slug(task_id)

        extra: dict[str, Any] = {
            "question_id": question_id,
            "difficulty_raw": difficulty_raw,
            "prompt": opt_str(row, "prompt"),
            "test": opt_str(row, "test"),
            "entry_point": entry_point,
            "layout": layout,
            "dropped_invalid_tests": dropped,
        }
        return CanonicalProblem(
            external_id=task_id,
            title=title,
            statement=statement,
            platform="leetcode",
            statement_format="text",
            problem_index=str(question_id) if question_id is not None else "",
            contest_date=contest_date,
            url=f"https://leetcode.com/problems/{task_id}/" if _SLUG.match(task_id) else "",
            io_format=IO_FUNCTIONAL,
            starter_code=starter_code,
            function_name=function_name,
            tags=tags,
            difficulty_label=difficulty,
            tests=tests,
            solutions=solutions,
            extra=extra,
        )


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(value)


def _statement_from_query(query: Any) -> str:
    if not isinstance(query, str):
        return ""
    text = query.split("Please complete the following python code precisely", 1)[0]
    if "### Question:" in text:
        text = text.split("### Question:", 1)[1]
    return text.strip()
