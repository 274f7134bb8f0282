"""The importer API: limits, errors, the `Importer` base class and per-file duplicate ids.

Pure Python (no Django). An importer turns a file or folder into a stream of `CanonicalProblem`
records and `RecordError`s: a bad record never stops the iteration, it becomes an error naming the
file, the record and the field, and the next record follows. Row formats build on
`readers.RowImporter`, folder formats on `folders.iter_folder_records`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

from .records import CanonicalProblem, RecordError

MiB = 1024 * 1024
GiB = 1024 * MiB

Result = CanonicalProblem | RecordError


@dataclass(frozen=True)
class ImportLimits:
    max_test_bytes: int = 16 * MiB  # one test input or output, UTF-8 bytes
    max_decompressed_bytes: int = 2 * GiB  # a whole .gz stream, decompressed
    max_record_bytes: int = 256 * MiB  # one JSON line / array element / problem folder's text


class UnknownFormatError(ValueError):
    """Raised by `get_importer` for a format name nobody registered."""


class FieldError(Exception):
    """Raised inside a record parser: the record is rejected because of `field`."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class Importer:
    """Base class. Subclasses set `format_name` and implement `iter_records`."""

    format_name: str = ""
    description: str = ""

    def __init__(self, limits: ImportLimits | None = None):
        self.limits = limits or ImportLimits()

    def iter_records(self, path: str | os.PathLike) -> Iterator[Result]:  # pragma: no cover
        raise NotImplementedError

    def check_problem(self, problem: CanonicalProblem, *, add_flags: bool = True) -> None:
        """Validate limits that apply to every format; raises FieldError."""
        limit = self.limits.max_test_bytes
        for i, test in enumerate(problem.tests):
            for name in ("input", "output"):
                value = getattr(test, name)
                if not isinstance(value, str):
                    raise FieldError(f"tests[{i}].{name}", f"expected text, got {type(value).__name__}")
                if len(value) * 4 > limit and len(value.encode("utf-8")) > limit:
                    raise FieldError(
                        f"tests[{i}].{name}",
                        f"test {name} is {len(value.encode('utf-8'))} bytes, over the limit of {limit}",
                    )
        if not add_flags:
            return
        if not problem.tests and "no_tests" not in problem.flags:
            problem.flags.append("no_tests")
        if not problem.solutions and "no_solution" not in problem.flags:
            problem.flags.append("no_solution")


class DuplicateTracker:
    """Remembers ids seen in one file; the second occurrence of an id is an error."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def check(self, file: str, record: str, external_id: str, field: str = "external_id") -> RecordError | None:
        first = self._seen.get(external_id)
        if first is not None:
            return RecordError(file, record, field, f"duplicate id {external_id!r} (first seen at {first}); kept the first")
        self._seen[external_id] = record
        return None
