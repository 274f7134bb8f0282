"""`canonical-jsonl`: our own schema, one `CanonicalProblem.to_dict()` JSON object per line.

`write_canonical_jsonl(records, fp)` writes it (exports reuse it); the importer reads it back.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from typing import IO, Any, Iterable

from .fields import require
from .importer import FieldError
from .readers import RowImporter
from .records import (
    TEST_GENERATED,
    TEST_HIDDEN,
    TEST_SAMPLE,
    CanonicalProblem,
    CanonicalSolution,
    CanonicalTest,
    RecordError,
)
from .registry import register

_FIELDS = {f.name: f for f in dataclasses.fields(CanonicalProblem)}
_TEST_KINDS = (TEST_SAMPLE, TEST_HIDDEN, TEST_GENERATED)


def canonical_json_line(problem: CanonicalProblem) -> str:
    return json.dumps(problem.to_dict(), ensure_ascii=False, sort_keys=False, default=str)


def write_canonical_jsonl(records: Iterable[CanonicalProblem | RecordError], fp: IO) -> int:
    """Write problems as canonical JSON lines to a text or binary file object; RecordErrors
    are skipped. Returns the number of problems written."""
    n = 0
    binary = _is_binary(fp)
    for rec in records:
        if isinstance(rec, RecordError):
            continue
        line = canonical_json_line(rec) + "\n"
        fp.write(line.encode("utf-8") if binary else line)
        n += 1
    return n


def _is_binary(fp: IO) -> bool:
    if isinstance(fp, io.TextIOBase):
        return False
    if isinstance(fp, (io.BufferedIOBase, io.RawIOBase)):
        return True
    mode = getattr(fp, "mode", "")
    return isinstance(mode, str) and "b" in mode


def _typed(row: dict, key: str, types: tuple, default: Any) -> Any:
    value = row.get(key, default)
    if value is None:
        return default if default is not None or key in ("time_limit_ms", "memory_limit_mb", "difficulty_rating", "contest_date") else value
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise FieldError(key, f"expected {'/'.join(t.__name__ for t in types)}, got {type(value).__name__}")
    return value


@register("canonical-jsonl")
class CanonicalJsonlImporter(RowImporter):
    description = "MicroCoder canonical JSONL (CanonicalProblem.to_dict() per line)"

    def parse_row(self, row: dict[str, Any]) -> CanonicalProblem:
        unknown = set(row) - set(_FIELDS)
        if unknown:
            raise FieldError(sorted(unknown)[0], "unknown field for the canonical schema")
        external_id = require(row, "external_id").strip()
        title = require(row, "title")
        statement = require(row, "statement")
        kwargs: dict[str, Any] = {"external_id": external_id, "title": title, "statement": statement}
        for key in ("platform", "statement_format", "contest_id", "problem_index", "url", "io_format",
                    "starter_code", "function_name", "difficulty_label", "raw_hash"):
            if key in row and row[key] is not None:
                kwargs[key] = _typed(row, key, (str,), "")
        for key in ("time_limit_ms", "memory_limit_mb", "difficulty_rating"):
            if row.get(key) is not None:
                kwargs[key] = _typed(row, key, (int,), None)
        if row.get("contest_date"):
            value = _typed(row, "contest_date", (str,), None)
            try:
                kwargs["contest_date"] = dt.date.fromisoformat(value[:10])
            except ValueError:
                raise FieldError("contest_date", f"not an ISO date: {value!r:.40}") from None
        for key in ("tags", "flags"):
            value = _typed(row, key, (list,), [])
            if not all(isinstance(v, str) for v in value):
                raise FieldError(key, "expected a list of strings")
            kwargs[key] = list(value)
        for key in ("comparison", "extra"):
            if row.get(key) is not None:
                kwargs[key] = _typed(row, key, (dict,), {})
        tests = []
        for i, t in enumerate(_typed(row, "tests", (list,), [])):
            if not isinstance(t, dict):
                raise FieldError(f"tests[{i}]", "expected an object")
            for k in ("input", "output"):
                if not isinstance(t.get(k), str):
                    raise FieldError(f"tests[{i}].{k}", "missing or not text")
            kind = t.get("kind", TEST_HIDDEN)
            if kind not in _TEST_KINDS:
                raise FieldError(f"tests[{i}].kind", f"unknown test kind {kind!r}")
            group = t.get("group") or ""
            if not isinstance(group, str):
                raise FieldError(f"tests[{i}].group", "expected text")
            tests.append(CanonicalTest(input=t["input"], output=t["output"], kind=kind, group=group))
        kwargs["tests"] = tests
        sols = []
        for i, s in enumerate(_typed(row, "solutions", (list,), [])):
            if not isinstance(s, dict) or not isinstance(s.get("code"), str):
                raise FieldError(f"solutions[{i}].code", "missing or not text")
            lang = s.get("language", "python3")
            if not isinstance(lang, str):
                raise FieldError(f"solutions[{i}].language", "expected text")
            sols.append(CanonicalSolution(code=s["code"], language=lang, is_correct=bool(s.get("is_correct", True))))
        kwargs["solutions"] = sols
        return CanonicalProblem(**kwargs)

    def check_problem(self, problem: CanonicalProblem, *, add_flags: bool = False) -> None:
        # Round trips keep the flags exactly as written.
        super().check_problem(problem, add_flags=add_flags)
