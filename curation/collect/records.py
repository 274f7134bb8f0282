"""Plain canonical records that every importer yields.

Pure Python on purpose: importers, exports and tests use these without Django. The Django side
(`curation.services.imports`) maps them onto `Problem`, `TestCase` and `ReferenceSolution` rows.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import orjson
from dataclasses import dataclass, field
from typing import Any

IO_STDIN = "stdin"
IO_FUNCTIONAL = "functional"

TEST_SAMPLE = "sample"
TEST_HIDDEN = "hidden"
TEST_GENERATED = "generated"

# Problem-level flags an importer may raise; they are facts, not errors.
FLAG_NO_TESTS = "no_tests"
FLAG_NO_SOLUTION = "no_solution"
FLAG_STATEMENT_FROM_PDF = "statement_from_pdf"  # text extracted from a PDF: layout may be lost
FLAG_NOT_JUDGEABLE = "not_judgeable"  # e.g. interactive: needs the source's own interactor
FLAG_LIMIT_CLAMPED = "limit_clamped"  # a time/memory limit was infinite or absurd and was clamped


@dataclass
class CanonicalTest:
    input: str
    output: str
    kind: str = TEST_HIDDEN
    # Test group of a scored problem (Kattis `data/secret/<group>/`); "" when the source has none.
    group: str = ""


@dataclass
class CanonicalSolution:
    code: str
    language: str = "python3"
    # False for solutions the source marks as incorrect (CodeContests keeps those too).
    is_correct: bool = True


@dataclass
class CanonicalProblem:
    external_id: str
    title: str
    statement: str
    platform: str = ""
    statement_format: str = "markdown"  # markdown | html | text | latex
    contest_id: str = ""
    problem_index: str = ""  # "A", "E1", or a platform question id
    contest_date: dt.date | None = None
    url: str = ""
    io_format: str = IO_STDIN
    starter_code: str = ""
    function_name: str = ""
    time_limit_ms: int | None = None
    memory_limit_mb: int | None = None
    tags: list[str] = field(default_factory=list)
    difficulty_label: str = ""  # normalised: easy | medium | hard, or the platform's letter
    difficulty_rating: int | None = None  # e.g. Codeforces rating
    # How output is compared: {"mode": "tokens"} (default), "exact", "float" (+abs_tol/rel_tol),
    # "case_insensitive", "checker".
    comparison: dict[str, Any] = field(default_factory=lambda: {"mode": "tokens"})
    tests: list[CanonicalTest] = field(default_factory=list)
    solutions: list[CanonicalSolution] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # sha256 of the original record's bytes, as read: provenance, not identity.
    raw_hash: str = ""

    def content_hash(self) -> str:
        """Hash of everything that matters for curation; equal hash ⇒ nothing to update."""
        payload = self.to_dict()
        payload.pop("raw_hash", None)
        # orjson: the same canonical bytes every time (sorted keys), several times faster than
        # the json module on the hot path of an import.
        blob = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
        return hashlib.sha256(blob).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        # Written out by hand: dataclasses.asdict deep-copies every test and is the hot spot of
        # a large import.
        data = {name: getattr(self, name) for name in _SCALAR_FIELDS}
        data["contest_date"] = self.contest_date.isoformat() if self.contest_date else None
        data["tags"] = list(self.tags)
        data["comparison"] = dict(self.comparison)
        # "group" only where set: adding the key to every test would change the content hash of
        # every problem already imported, and a re-import would then report them all as updated.
        data["tests"] = [
            {"input": t.input, "output": t.output, "kind": t.kind, "group": t.group} if t.group
            else {"input": t.input, "output": t.output, "kind": t.kind}
            for t in self.tests
        ]
        data["solutions"] = [{"code": s.code, "language": s.language, "is_correct": s.is_correct} for s in self.solutions]
        data["flags"] = list(self.flags)
        data["extra"] = dict(self.extra)
        return data


_SCALAR_FIELDS = (
    "external_id", "title", "statement", "platform", "statement_format", "contest_id", "problem_index",
    "url", "io_format", "starter_code", "function_name", "time_limit_ms", "memory_limit_mb",
    "difficulty_label", "difficulty_rating", "raw_hash",
)


@dataclass
class RecordError:
    """One bad record: where it is and which field is wrong. The batch goes on."""

    file: str
    record: str  # line number ("line 17"), id, or folder name
    field: str  # the offending field, or "" when the record as a whole is unreadable
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.record}"
        if self.field:
            where += f": field '{self.field}'"
        return f"{where}: {self.message}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
