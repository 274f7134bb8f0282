"""Shared machinery for importers: limits, the importer interface, streaming readers.

Pure Python (no Django). Every importer streams: JSONL line by line (gzip decompressed as it is
read, with a running count against `ImportLimits.max_decompressed_bytes`), JSON arrays element by
element, Parquet by row batches, problem folders one folder at a time.

A bad record never stops the iteration: it becomes a `RecordError` naming the file, the record
and the field, and the next record follows.
"""
from __future__ import annotations

import ast
import gzip
import hashlib
import json
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from .records import CanonicalProblem, CanonicalTest, RecordError, sha256_bytes

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


class _StreamStopped(Exception):
    """The underlying stream cannot go on (truncated gzip, limit reached)."""


# --------------------------------------------------------------------------------------------
# Importer interface
# --------------------------------------------------------------------------------------------


class Importer:
    """Base class. Subclasses set `format_name` and implement `iter_records`."""

    format_name: str = ""
    description: str = ""

    def __init__(self, limits: ImportLimits | None = None):
        self.limits = limits or ImportLimits()

    def iter_records(self, path: str | os.PathLike) -> Iterator[Result]:  # pragma: no cover
        raise NotImplementedError

    # -- helpers shared by subclasses --------------------------------------------------------

    def iter_folder_records(
        self, root: Path, is_problem: Callable[[Path], bool], parse: Callable[[Path], CanonicalProblem]
    ) -> Iterator[Result]:
        """The loop every one-folder-per-problem format shares: find the folders, parse each,
        check limits, and report bad folders and repeated ids without stopping."""
        dup = DuplicateTracker()
        for folder, error in iter_problem_folders(root, is_problem):
            if error is not None:
                yield error
                continue
            assert folder is not None
            try:
                problem = parse(folder)
                self.check_problem(problem)
            except FieldError as exc:
                yield RecordError(str(folder), folder.name, exc.field, exc.message)
                continue
            err = dup.check(str(folder), folder.name, problem.external_id)
            if err is not None:
                yield err
                continue
            yield problem

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


# --------------------------------------------------------------------------------------------
# Streaming readers. Each yields ("ok", label, bytes) or ("error", label, message).
# --------------------------------------------------------------------------------------------


def is_gzip_path(path: Path) -> bool:
    return path.name.endswith(".gz")


def _open_binary(path: Path):
    if is_gzip_path(path):
        return gzip.open(path, "rb")
    return open(path, "rb")


_STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


def iter_lines(path: Path, limits: ImportLimits) -> Iterator[tuple[str, str, bytes | str]]:
    """Stream the lines of a (possibly gzipped) file.

    Yields ("ok", "line N", raw_bytes_without_newline) for each non-blank line,
    ("error", "line N", message) for an oversize line (the iteration goes on) and for a stream
    that cannot continue (truncated/corrupt gzip, decompressed-size limit; the iteration ends).
    """
    gz = is_gzip_path(path)
    max_rec = limits.max_record_bytes
    total = 0
    lineno = 0
    try:
        fp = _open_binary(path)
    except OSError as exc:
        yield ("error", "file", f"cannot open: {exc}")
        return
    with fp:
        while True:
            lineno += 1
            label = f"line {lineno}"
            try:
                line = fp.readline(max_rec + 1)
                total += len(line)
                if gz and total > limits.max_decompressed_bytes:
                    raise _StreamStopped(
                        f"decompressed data exceeds the limit of {limits.max_decompressed_bytes} bytes "
                        f"(possible gzip bomb); stopped reading"
                    )
                if not line:
                    return
                oversize = len(line) > max_rec and not (len(line) == max_rec + 1 and line.endswith(b"\n"))
                if oversize:
                    # Drain the rest of this line without keeping it.
                    while not line.endswith(b"\n"):
                        line = fp.readline(MiB)
                        if not line:
                            break
                        total += len(line)
                        if gz and total > limits.max_decompressed_bytes:
                            raise _StreamStopped(
                                f"decompressed data exceeds the limit of {limits.max_decompressed_bytes} "
                                f"bytes (possible gzip bomb); stopped reading"
                            )
                    yield ("error", label, f"record is larger than the limit of {max_rec} bytes")
                    continue
            except _StreamStopped as exc:
                yield ("error", label, str(exc))
                return
            except _STREAM_ERRORS as exc:
                kind = "truncated or corrupt compressed stream" if gz else "read error"
                yield ("error", label, f"{kind} ({type(exc).__name__}: {exc}); stopped reading")
                return
            raw = line.rstrip(b"\r\n")
            if raw.strip():
                yield ("ok", label, raw)


_STRUCT = re.compile(rb'["\[\]{}]')
_IN_STRING = re.compile(rb'["\\]')


_SEP = re.compile(rb"[ \t\r\n,]*")
_SCALAR_END = re.compile(rb"[,\]\s]")


class _ArrayScanner:
    """Buffered reader for `iter_json_array`: `buf[start:]` is unconsumed data."""

    def __init__(self, fp, gz: bool, limits: ImportLimits, chunk_size: int):
        self.fp = fp
        self.gz = gz
        self.limits = limits
        self.chunk_size = chunk_size
        self.buf = b""
        self.start = 0
        self.total = 0
        self.eof = False

    def fill(self) -> int:
        """Read one more chunk; returns how far positions shifted (compaction), or -1 at EOF."""
        if self.eof:
            return -1
        chunk = self.fp.read(self.chunk_size)
        if not chunk:
            self.eof = True
            return -1
        self.total += len(chunk)
        if self.gz and self.total > self.limits.max_decompressed_bytes:
            raise _StreamStopped(
                f"decompressed data exceeds the limit of {self.limits.max_decompressed_bytes} bytes "
                f"(possible gzip bomb); stopped reading"
            )
        shift = self.start
        self.buf = self.buf[self.start:] + chunk
        self.start = 0
        return shift


def iter_json_array(path: Path, limits: ImportLimits, chunk_size: int = 4 * MiB) -> Iterator[tuple[str, str, bytes | str]]:
    """Stream the elements of a top-level JSON array without parsing the whole file.

    A small scanner finds where each top-level element ends (tracking strings and nesting);
    each element's bytes are then handed out to be decoded on their own.
    Yields ("ok", "item N", element_bytes) / ("error", "item N", message), like `iter_lines`.
    """
    gz = is_gzip_path(path)
    max_rec = limits.max_record_bytes
    try:
        fp = _open_binary(path)
    except OSError as exc:
        yield ("error", "file", f"cannot open: {exc}")
        return
    index = 0
    with fp:
        s = _ArrayScanner(fp, gz, limits, chunk_size)
        try:
            # The opening bracket.
            while True:
                m = re.compile(rb"(?:\xef\xbb\xbf)?\s*").match(s.buf, s.start)
                s.start = m.end()
                if s.start < len(s.buf):
                    break
                if s.fill() < 0:
                    yield ("error", "file", "empty file, expected a JSON array")
                    return
            if s.buf[s.start:s.start + 1] != b"[":
                yield ("error", "file", "expected a JSON array ('[' at the start of the file)")
                return
            s.start += 1
            while True:
                # Separators and whitespace before the next element.
                while True:
                    s.start = _SEP.match(s.buf, s.start).end()
                    if s.start < len(s.buf):
                        break
                    if s.fill() < 0:
                        yield ("error", f"item {index + 1}", "unexpected end of file: array not closed")
                        return
                if s.buf[s.start:s.start + 1] == b"]":
                    return
                index += 1
                label = f"item {index}"
                first = s.buf[s.start:s.start + 1]
                pos = s.start + (1 if first in (b"{", b"[", b'"') else 0)
                depth = 1 if first in (b"{", b"[") else 0
                in_str = first == b'"'
                scalar = first not in (b"{", b"[", b'"')
                end = None
                while end is None:
                    if scalar:
                        m = _SCALAR_END.search(s.buf, pos)
                        if m is not None:
                            end = m.start()
                            continue
                        pos = len(s.buf)
                    elif in_str:
                        m = _IN_STRING.search(s.buf, pos)
                        if m is not None and m.group() == b"\\" and m.end() < len(s.buf):
                            pos = m.end() + 1
                            continue
                        if m is not None and m.group() == b'"':
                            in_str = False
                            pos = m.end()
                            if depth == 0:
                                end = pos
                            continue
                        pos = m.start() if m is not None else len(s.buf)
                    else:
                        m = _STRUCT.search(s.buf, pos)
                        if m is not None:
                            ch = m.group()
                            pos = m.end()
                            if ch == b'"':
                                in_str = True
                            elif ch in (b"{", b"["):
                                depth += 1
                            else:
                                depth -= 1
                                if depth <= 0:
                                    end = pos
                            continue
                        pos = len(s.buf)
                    # Need more data for this element.
                    if pos - s.start > max_rec:
                        yield ("error", label, f"record is larger than the limit of {max_rec} bytes; stopped reading")
                        return
                    shift = s.fill()
                    if shift < 0:
                        if scalar:
                            end = len(s.buf)
                            continue
                        yield ("error", label, "unexpected end of file inside an array element")
                        return
                    pos -= shift
                element = s.buf[s.start:end]
                s.start = end
                if len(element) > max_rec:
                    yield ("error", label, f"record is larger than the limit of {max_rec} bytes")
                    continue
                yield ("ok", label, element.strip())
        except _StreamStopped as exc:
            yield ("error", f"item {index}" if index else "file", str(exc))
        except _STREAM_ERRORS as exc:
            kind = "truncated or corrupt compressed stream" if gz else "read error"
            yield ("error", f"item {index}" if index else "file", f"{kind} ({type(exc).__name__}: {exc}); stopped reading")


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def iter_parquet_rows(path: Path, limits: ImportLimits, batch_size: int = 16) -> Iterator[tuple[str, str, dict | str]]:
    """Stream rows of a Parquet file by small row batches. Yields ("row", "row N", dict)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover
        yield ("error", "file", "pyarrow is not installed; cannot read Parquet")
        return
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
        yield ("error", "file", f"cannot open Parquet file: {exc}")
        return
    n = 0
    try:
        for batch in pf.iter_batches(batch_size=batch_size):
            for row in batch.to_pylist():
                n += 1
                yield ("row", f"row {n}", row)
    except Exception as exc:  # noqa: BLE001
        yield ("error", f"row {n + 1}", f"cannot read Parquet data ({exc}); stopped reading")


def sniff_json_array(path: Path) -> bool:
    """True when the file's first non-blank byte is '[' (a JSON array, not JSON lines)."""
    try:
        with _open_binary(path) as fp:
            head = fp.read(4096)
    except _STREAM_ERRORS:
        return False
    head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"[")


# --------------------------------------------------------------------------------------------
# Row importers: JSONL / JSON array / Parquet rows → one parse function.
# --------------------------------------------------------------------------------------------

ROW_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson", ".ndjson.gz", ".parquet")


class RowImporter(Importer):
    """Importer for formats stored as rows (JSON objects). Subclasses implement `parse_row`."""

    def parse_row(self, row: dict[str, Any]) -> CanonicalProblem:  # pragma: no cover
        """Build a CanonicalProblem from one row; raise FieldError for a bad field."""
        raise NotImplementedError

    def iter_records(self, path: str | os.PathLike) -> Iterator[Result]:
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(ROW_SUFFIXES))
            if not files:
                yield RecordError(str(path), "folder", "", f"no data files ({', '.join(ROW_SUFFIXES)}) found")
            for f in files:
                yield from self.iter_file(f)
            return
        yield from self.iter_file(path)

    def iter_file(self, path: Path) -> Iterator[Result]:
        file = str(path)
        if not path.exists():
            yield RecordError(file, "file", "", "no such file")
            return
        dup = DuplicateTracker()
        if path.name.endswith(".parquet"):
            source: Iterable = iter_parquet_rows(path, self.limits)
        elif sniff_json_array(path):
            source = iter_json_array(path, self.limits)
        else:
            source = iter_lines(path, self.limits)
        for kind, label, payload in source:
            if kind == "error":
                yield RecordError(file, label, "", str(payload))
                continue
            if kind == "row":
                row = payload
                raw_hash = sha256_bytes(
                    json.dumps(row, sort_keys=True, ensure_ascii=False, default=_json_default).encode("utf-8")
                )
            else:
                raw = payload
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield RecordError(file, label, "", f"invalid UTF-8 at byte {exc.start}: {exc.reason}")
                    continue
                try:
                    row = orjson.loads(text)  # orjson: same results as json, much faster on big files
                except (json.JSONDecodeError, RecursionError) as exc:
                    yield RecordError(file, label, "", f"malformed JSON: {exc}")
                    continue
                raw_hash = sha256_bytes(raw)
            if not isinstance(row, dict):
                yield RecordError(file, label, "", f"expected a JSON object, got {type(row).__name__}")
                continue
            try:
                problem = self.parse_row(row)
                self.check_problem(problem)
            except FieldError as exc:
                yield RecordError(file, label, exc.field, _with_id(exc.message, row))
                continue
            problem.raw_hash = raw_hash
            err = dup.check(file, label, problem.external_id)
            if err is not None:
                yield err
                continue
            yield problem


def _with_id(message: str, row: dict) -> str:
    for key in ("task_id", "question_id", "problem_id", "name", "external_id", "id"):
        value = row.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return f"{message} (record {key}={value!r})"
    return message


# --------------------------------------------------------------------------------------------
# Field helpers
# --------------------------------------------------------------------------------------------


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


class FolderHasher:
    """Hash of the files a folder importer read: relative path, length and bytes of each."""

    def __init__(self, root: Path):
        self.root = root
        self._h = hashlib.sha256()
        self.total = 0

    def add(self, path: Path, data: bytes) -> None:
        rel = path.relative_to(self.root).as_posix().encode("utf-8")
        self._h.update(rel + b"\0" + str(len(data)).encode() + b"\0")
        self._h.update(data)
        self.total += len(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def read_text_file(
    path: Path,
    field: str,
    hasher: FolderHasher | None,
    limit: int,
    *,
    required: bool = True,
) -> str | None:
    """Read a small text file of a problem folder, with a size check before reading."""
    if not path.is_file():
        if required:
            raise FieldError(field, f"missing file {path.name}")
        return None
    size = path.stat().st_size
    if size > limit:
        raise FieldError(field, f"{path.name} is {size} bytes, over the limit of {limit}")
    data = path.read_bytes()
    if hasher is not None:
        hasher.add(path, data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FieldError(field, f"invalid UTF-8 in {path.name} at byte {exc.start}") from None


def natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def iter_problem_folders(path: Path, is_problem: Callable[[Path], bool]) -> Iterator[tuple[Path | None, RecordError | None]]:
    """PATH is a problem folder or a folder of problem folders."""
    if not path.exists():
        yield None, RecordError(str(path), "folder", "", "no such file or folder")
        return
    if not path.is_dir():
        yield None, RecordError(str(path), "folder", "", "expected a folder")
        return
    if is_problem(path):
        yield path, None
        return
    subdirs = sorted((p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: natural_key(p.name))
    if not subdirs:
        yield None, RecordError(str(path), "folder", "", "no problem folders found")
    for sub in subdirs:
        yield sub, None
