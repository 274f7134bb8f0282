"""Streaming readers for row formats, and `RowImporter`, the importer built on them.

Every reader streams: JSONL line by line (gzip decompressed as it is read, with a running count
against `ImportLimits.max_decompressed_bytes`), JSON arrays element by element, Parquet by row
batches. Each yields ("ok", label, bytes) or ("error", label, message); a stream that cannot go on
(truncated gzip, limit reached) ends with one error.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

from .importer import MiB, DuplicateTracker, FieldError, ImportLimits, Importer, Result
from .records import CanonicalProblem, RecordError, sha256_bytes


class _StreamStopped(Exception):
    """The underlying stream cannot go on (truncated gzip, limit reached)."""


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
                if f.is_symlink():  # a folder's files are read as they are, never through a link
                    yield RecordError(str(f), "file", "", "symbolic link; refused (links may point anywhere)")
                    continue
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
