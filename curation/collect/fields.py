"""Field coercion for row importers: required and optional fields, JSON / Python-literal text
(never eval), lists of strings, difficulty words, tests from parallel input/output lists.

Each helper raises `FieldError(field, message)`, which the importer turns into a `RecordError`
naming the record and the field.
"""
from __future__ import annotations

import ast
import json
from typing import Any

from .importer import FieldError
from .records import CanonicalTest


def require(row: dict, key: str, *, types: tuple = (str,), allow_empty: bool = False) -> Any:
    if key not in row or row[key] is None:
        raise FieldError(key, "required field is missing")
    value = row[key]
    if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
        raise FieldError(key, f"expected {'/'.join(t.__name__ for t in types)}, got {type(value).__name__}")
    if not allow_empty and isinstance(value, str) and not value.strip():
        raise FieldError(key, "required field is empty")
    return value


def opt_str(row: dict, key: str, default: str = "") -> str:
    value = row.get(key)
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise FieldError(key, f"expected text, got {type(value).__name__}")
    return value


def literal(value: Any, field: str, expect: type | tuple[type, ...] | None = None, *, json_first: bool = True) -> Any:
    """Accept an already-decoded value or a JSON / Python-literal string (ast.literal_eval, never eval)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            value = None
        else:
            decoded = _MISSING = object()
            if json_first:
                try:
                    decoded = json.loads(text)
                except (json.JSONDecodeError, RecursionError):
                    decoded = _MISSING
            if decoded is _MISSING:
                try:
                    decoded = ast.literal_eval(text)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
                    raise FieldError(field, f"cannot parse as JSON or a Python literal: {type(exc).__name__}") from None
            value = decoded
    if expect is not None and value is not None and not isinstance(value, expect):
        names = expect.__name__ if isinstance(expect, type) else "/".join(t.__name__ for t in expect)
        raise FieldError(field, f"expected {names}, got {type(value).__name__}")
    return value


def io_text(value: Any) -> str:
    """Test input/output as text: strings as they are, anything else as JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def str_list(value: Any, field: str) -> list[str]:
    value = literal(value, field, (list, tuple))
    if value is None:
        return []
    out = []
    for i, item in enumerate(value):
        if item is None:
            continue
        if not isinstance(item, (str, int, float)):
            raise FieldError(f"{field}[{i}]", f"expected text, got {type(item).__name__}")
        text = str(item).strip()
        if text:
            out.append(text)
    return out


DIFFICULTY_WORDS = {
    "easy": "easy",
    "medium": "medium",
    "meidum": "medium",
    "hard": "hard",
}


def normalise_difficulty(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    return DIFFICULTY_WORDS.get(text.lower(), text)


def make_tests(inputs: list, outputs: list, kind: str, field: str) -> list[CanonicalTest]:
    if len(inputs) != len(outputs):
        raise FieldError(field, f"{len(inputs)} inputs but {len(outputs)} outputs")
    return [CanonicalTest(input=io_text(i), output=io_text(o), kind=kind) for i, o in zip(inputs, outputs)]
