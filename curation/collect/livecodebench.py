"""`livecodebench`: LiveCodeBench code_generation_lite rows (JSONL, JSON array, or Parquet).

Fields: question_title, question_content, platform, question_id, contest_id, contest_date,
starter_code, difficulty, public_test_cases (JSON string of [{input, output, testtype}]),
private_test_cases (the same JSON string, or base64(zlib(pickle(JSON string)))), metadata
(JSON string; `func_name` means function-call style).

LiveCodeBench's published evaluation rows (`insert_output_evaluation`: the same problem fields plus
`code_list`, `graded_list`, `pass@1`, and `metadata` as a LIST of per-generation details) carry no
tests: they import as problems flagged `no_tests`, good as a benchmark for decontamination; the
function name then comes from the starter code.

The pickle is decoded with a restricted unpickler that refuses every global, so a crafted
payload cannot import or call anything; the result must be a plain `str`.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import re
import zlib
from typing import Any

import orjson

from .fields import literal, normalise_difficulty, opt_str, require
from .importer import FieldError
from .readers import RowImporter
from .leetcodedataset import parse_date
from .records import (
    IO_FUNCTIONAL,
    IO_STDIN,
    TEST_HIDDEN,
    TEST_SAMPLE,
    CanonicalProblem,
    CanonicalTest,
)
from .registry import register


class _NoGlobalsUnpickler(pickle.Unpickler):
    """Unpickler that refuses to resolve any class or function."""

    def find_class(self, module: str, name: str):  # noqa: ARG002
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


def restricted_unpickle_str(data: bytes) -> str:
    """Unpickle `data` allowing only built-in scalar/container opcodes; the result must be a str."""
    result = _NoGlobalsUnpickler(io.BytesIO(data)).load()
    if not isinstance(result, str):
        raise pickle.UnpicklingError(f"expected a pickled str, got {type(result).__name__}")
    return result


def decode_private_tests(value: Any, field: str, max_bytes: int) -> list:
    """Plain JSON text, or base64 → zlib → pickle(str) → JSON text. Returns the list."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise FieldError(field, f"expected text, got {type(value).__name__}")
    text = value.strip()
    if text.startswith("["):
        return _json_list(text, field)
    try:
        compressed = base64.b64decode(text.encode("ascii"), validate=False)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise FieldError(field, f"neither JSON nor base64: {exc}") from None
    try:
        d = zlib.decompressobj()
        raw = d.decompress(compressed, max_bytes + 1)
        if len(raw) > max_bytes or d.unconsumed_tail:
            raise FieldError(field, f"decompressed private tests exceed the limit of {max_bytes} bytes")
    except zlib.error as exc:
        raise FieldError(field, f"not zlib data: {exc}") from None
    try:
        text = restricted_unpickle_str(raw)
    except FieldError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unpickling failure rejects the record
        raise FieldError(field, f"refused pickle payload: {type(exc).__name__}: {exc}") from None
    return _json_list(text, field)


def _json_list(text: str, field: str) -> list:
    try:
        value = orjson.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FieldError(field, f"malformed JSON: {exc}") from None
    if not isinstance(value, list):
        raise FieldError(field, f"expected a list of tests, got {type(value).__name__}")
    return value


def _tests(cases: list, field: str, kind: str) -> tuple[list[CanonicalTest], set[str]]:
    tests = []
    testtypes = set()
    for i, case in enumerate(cases):
        if not isinstance(case, dict):
            raise FieldError(f"{field}[{i}]", f"expected an object, got {type(case).__name__}")
        for key in ("input", "output"):
            if case.get(key) is None:
                raise FieldError(f"{field}[{i}].{key}", "missing")
            if not isinstance(case[key], str):
                raise FieldError(f"{field}[{i}].{key}", f"expected text, got {type(case[key]).__name__}")
        if case.get("testtype"):
            testtypes.add(str(case["testtype"]))
        tests.append(CanonicalTest(input=case["input"], output=case["output"], kind=kind))
    return tests, testtypes


_URLS = {
    "leetcode": "https://leetcode.com/problems/{qid}/",
    "atcoder": "https://atcoder.jp/contests/{contest}/tasks/{qid}",
}


@register("livecodebench")
class LiveCodeBenchImporter(RowImporter):
    description = "LiveCodeBench code_generation_lite (JSONL / JSON array / Parquet)"

    def parse_row(self, row: dict[str, Any]) -> CanonicalProblem:
        qid = str(require(row, "question_id", types=(str, int))).strip()
        if not qid:
            raise FieldError("question_id", "required field is empty")
        title = require(row, "question_title").strip()
        statement = require(row, "question_content")
        platform = opt_str(row, "platform").strip().lower()
        contest_id = opt_str(row, "contest_id").strip()

        public = _json_or_list(row.get("public_test_cases"), "public_test_cases")
        private = decode_private_tests(row.get("private_test_cases"), "private_test_cases", self.limits.max_record_bytes)
        pub_tests, t1 = _tests(public, "public_test_cases", TEST_SAMPLE)
        priv_tests, t2 = _tests(private, "private_test_cases", TEST_HIDDEN)

        raw_metadata = literal(row.get("metadata"), "metadata", (dict, list))
        evaluation: dict[str, Any] = {}
        if isinstance(raw_metadata, list):
            # An evaluation row: the list describes generations, not the problem.
            metadata: dict = {}
            evaluation = _evaluation_summary(row)
        else:
            metadata = raw_metadata or {}
        func_name = metadata.get("func_name") or ""
        starter_code = opt_str(row, "starter_code")
        if not func_name and evaluation and platform == "leetcode":
            m = _STARTER_METHOD.search(starter_code)
            func_name = m.group(1) if m else ""
        functional = bool(func_name) or (t1 | t2) == {"functional"}
        difficulty_raw = row.get("difficulty")
        difficulty = normalise_difficulty(difficulty_raw)

        url = ""
        if platform == "leetcode":
            slug = metadata.get("question_slug") or metadata.get("slug") or ""
            if slug:
                url = _URLS["leetcode"].format(qid=slug)
        elif platform == "atcoder" and contest_id:
            url = _URLS["atcoder"].format(contest=contest_id, qid=qid)
        elif platform == "codeforces":
            # question_id looks like "1873_A"; contest_id "1873".
            head, _, index = qid.partition("_")
            if head.isdigit() and index:
                url = f"https://codeforces.com/problemset/problem/{head}/{index}"

        problem_index = ""
        if platform == "codeforces" and "_" in qid:
            problem_index = qid.rsplit("_", 1)[-1]
        elif platform == "atcoder" and "_" in qid:
            problem_index = qid.rsplit("_", 1)[-1].upper()

        return CanonicalProblem(
            external_id=qid,
            title=title,
            statement=statement,
            platform=platform,
            statement_format="text",
            contest_id=contest_id,
            problem_index=problem_index,
            contest_date=parse_date(row.get("contest_date"), "contest_date"),
            url=url,
            io_format=IO_FUNCTIONAL if functional else IO_STDIN,
            starter_code=starter_code,
            function_name=str(func_name),
            difficulty_label=difficulty,
            tests=pub_tests + priv_tests,
            extra={
                "question_id": qid,
                "metadata": metadata,
                "difficulty_raw": difficulty_raw,
                "contest_datetime": str(row.get("contest_date") or "") or None,
                **({"lcb_evaluation": evaluation} if evaluation else {}),
            },
        )


_STARTER_METHOD = re.compile(r"^\s+def\s+([A-Za-z_]\w*)\s*\(\s*self\b", re.M)


def _evaluation_summary(row: dict[str, Any]) -> dict[str, Any]:
    """What an evaluation row says about the graded generations (not the code itself)."""
    graded = row.get("graded_list")
    summary: dict[str, Any] = {"metadata_entries": len(row.get("metadata") or [])}
    if isinstance(graded, list):
        summary["generations"] = len(graded)
        summary["passed"] = sum(1 for g in graded if g is True)
    pass1 = row.get("pass@1")
    if isinstance(pass1, (int, float)) and not isinstance(pass1, bool):
        summary["pass@1"] = float(pass1)
    return summary


def _json_or_list(value: Any, field: str) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise FieldError(field, f"expected JSON text, got {type(value).__name__}")
    return _json_list(value, field)
