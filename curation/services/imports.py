"""Collection stage: stream an importer's records into Problem, TestCase and ReferenceSolution rows.

Records are written in chunks, one transaction per chunk, so a failure never leaves a problem
half-written; a chunk that fails as a whole is retried record by record so that one bad row
cannot take its neighbours down with it.
"""
from __future__ import annotations

import gzip
import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from curation.errors import DomainError
from curation.collect import ImportLimits, available_formats, get_importer
from curation.collect.records import CanonicalProblem, RecordError
from curation.models import ImportRun, Problem, ProblemRevision, ReferenceSolution, Source, TestCase
from curation.services.audit import audit_event_record
from curation.services.bulk_insert import insert_values
from curation.services.runs import run_finish, run_progress, run_start

logger = logging.getLogger(__name__)

# Default source names and licences per format, used when --source is not given.
DEFAULT_SOURCES = {
    "codecontests-dir": ("codecontests", "CC-BY-4.0", "https://github.com/google-deepmind/code_contests"),
    "codecontests-hf": ("codecontests", "CC-BY-4.0", "https://github.com/google-deepmind/code_contests"),
    "leetcodedataset": ("leetcodedataset", "MIT", "https://github.com/newfacade/LeetCodeDataset"),
    "livecodebench": ("livecodebench", "CC-BY-4.0", "https://livecodebench.github.io/"),
    "taco": ("taco", "Apache-2.0", "https://github.com/FlagOpen/TACO"),
    "apps": ("apps", "MIT", "https://github.com/hendrycks/apps"),
    "kattis": ("kattis", "", "https://open.kattis.com/"),
    "canonical-jsonl": ("canonical", "", ""),
}

PROBLEM_FIELDS = (
    "platform", "contest_id", "problem_index", "contest_date", "url", "title", "io_format",
    "starter_code", "function_name", "time_limit_ms", "memory_limit_mb", "tags", "difficulty_label",
    "difficulty_rating", "comparison", "flags", "extra",
)


class ImportRequestError(DomainError):
    """The request itself is wrong (unknown format, missing path): nothing was started."""


def import_limits() -> ImportLimits:
    return ImportLimits(
        max_test_bytes=settings.IMPORT_MAX_TEST_BYTES,
        max_decompressed_bytes=settings.IMPORT_MAX_DECOMPRESSED_BYTES,
    )


def source_get_or_create(name: str, format_name: str) -> Source:
    default_name, license_name, url = DEFAULT_SOURCES.get(format_name, (name, "", ""))
    source, _ = Source.objects.get_or_create(
        name=name, defaults={"license": license_name if name == default_name else "", "url": url if name == default_name else ""}
    )
    return source


def import_run_create(*, path: str, format_name: str, source_name: str | None = None, user=None) -> ImportRun:
    if format_name not in available_formats():
        raise ImportRequestError(
            f"unknown format '{format_name}'; known formats: {', '.join(sorted(available_formats()))}"
        )
    if not Path(path).exists():
        raise ImportRequestError(f"path '{path}' does not exist")
    source_name = source_name or DEFAULT_SOURCES.get(format_name, (format_name,))[0]
    with transaction.atomic():
        source = source_get_or_create(source_name, format_name)
        run = ImportRun.objects.create(
            source=source, file_path=str(Path(path).resolve()), format=format_name, created_by=user
        )
        audit_event_record(actor=user, action="import_run_create", target=run, after={"path": run.file_path, "format": format_name})
    return run


def estimate_record_count(path: Path) -> int | None:
    """A cheap upper estimate of how many records a path holds, for the progress bar."""
    try:
        if path.is_dir():
            return sum(1 for child in path.iterdir() if child.is_dir()) or 1
        name = path.name.lower()
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if name.endswith(".jsonl") or name.endswith(".jsonl.gz") or name.endswith(".gz"):
            opener = gzip.open if name.endswith(".gz") else open
            count = 0
            with opener(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    count += chunk.count(b"\n")
                    if count > 10_000_000:
                        break
            return count
    except (OSError, EOFError, ValueError):
        return None
    return None


@dataclass
class ChunkOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)


def _problem_values(record: CanonicalProblem) -> dict:
    values = {name: getattr(record, name) for name in PROBLEM_FIELDS}
    values["statement"] = record.statement
    values["statement_original"] = record.statement
    values["title"] = (record.title or record.external_id)[:500]
    values["platform"] = (record.platform or "")[:40]
    values["content_hash"] = record.content_hash()
    values["raw_hash"] = record.raw_hash
    values["comparison"] = record.comparison or {"mode": "tokens"}
    # The processing stage needs to know whether the statement is HTML, Markdown or plain text.
    values["extra"] = {**record.extra, "statement_format": record.statement_format}
    return values


PROBLEM_VALUE_COLUMNS = [*PROBLEM_FIELDS, "statement", "statement_original", "content_hash", "raw_hash"]
# Columns a new row needs beyond the record's values: Problem's own defaults, spelled out
# because the COPY path writes every column explicitly.
NEW_PROBLEM_DEFAULTS = {
    "signature": "", "format_instruction": "", "process_status": "pending", "process_reasons": [],
    "normalized_hash": "", "verification_status": "unverified", "is_duplicate": False, "is_benchmark": False,
    "benchmark_name": "", "is_contaminated": False, "bucket": "", "review_status": "unreviewed", "version": 1,
    "stage_errors": {},
}
NEW_PROBLEM_COLUMNS = ["source", "external_id", "import_run", *PROBLEM_VALUE_COLUMNS, *NEW_PROBLEM_DEFAULTS, "created_at", "updated_at"]
TEST_COLUMNS = ["problem", "ordinal", "input", "output", "kind", "size_bytes", "is_training", "flags", "group"]
SOLUTION_COLUMNS = ["problem", "ordinal", "language", "code", "is_correct"]


def _children(problem_id: int, record: CanonicalProblem) -> tuple[list[tuple], list[tuple]]:
    """Plain value rows for the problem's tests and solutions, in TEST_/SOLUTION_COLUMNS order."""
    tests = [
        (problem_id, i, t.input, t.output, t.kind, len(t.input.encode("utf-8")) + len(t.output.encode("utf-8")), True, [], t.group[:100])
        for i, t in enumerate(record.tests)
    ]
    solutions = [(problem_id, i, s.language, s.code, s.is_correct) for i, s in enumerate(record.solutions)]
    return tests, solutions


def _write_chunk(run: ImportRun, records: list[CanonicalProblem]) -> ChunkOutcome:
    """Write one chunk in one transaction: new problems in bulk, changed ones updated in place."""
    outcome = ChunkOutcome()
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # An import is idempotent and can simply be rerun, so it need not wait for each
            # chunk's WAL flush; a crash loses at most the last chunks, never half of one.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        existing = {
            p.external_id: p
            for p in Problem.objects.filter(source=run.source, external_id__in=[r.external_id for r in records])
        }
        new_rows: list[tuple] = []
        new_records: list[CanonicalProblem] = []
        changed: list[tuple[Problem, CanonicalProblem]] = []
        for record in records:
            values = _problem_values(record)
            current = existing.get(record.external_id)
            if current is None:
                new_rows.append((run.source_id, record.external_id, run.pk, *[values[c] for c in PROBLEM_VALUE_COLUMNS], *NEW_PROBLEM_DEFAULTS.values(), now, now))
                new_records.append(record)
            elif current.content_hash == values["content_hash"]:
                outcome.unchanged += 1
            else:
                ProblemRevision.objects.create(
                    problem=current, content_hash=current.content_hash, raw_hash=current.raw_hash, import_run=run
                )
                for name, value in values.items():
                    setattr(current, name, value)
                current.import_run = run
                current.version += 1
                # Downstream facts were derived from the old content: send it back through the stages.
                current.process_status = "pending"
                current.verification_status = "unverified"
                current.save()
                changed.append((current, record))
        new_ids = insert_values(Problem, NEW_PROBLEM_COLUMNS, new_rows, return_ids=True)
        if changed:
            changed_ids = [p.pk for p, _ in changed]
            TestCase.objects.filter(problem_id__in=changed_ids).delete()
            ReferenceSolution.objects.filter(problem_id__in=changed_ids).delete()
        all_tests: list[tuple] = []
        all_solutions: list[tuple] = []
        for problem_id, record in [*zip(new_ids, new_records), *[(p.pk, r) for p, r in changed]]:
            tests, solutions = _children(problem_id, record)
            all_tests.extend(tests)
            all_solutions.extend(solutions)
        insert_values(TestCase, TEST_COLUMNS, all_tests)
        insert_values(ReferenceSolution, SOLUTION_COLUMNS, all_solutions)
        outcome.created += len(new_rows)
        outcome.updated += len(changed)
    return outcome


def _write_chunk_isolating_failures(run: ImportRun, records: list[CanonicalProblem]) -> ChunkOutcome:
    try:
        return _write_chunk(run, records)
    except Exception:  # noqa: BLE001 — a DB-level failure in the chunk: find the record to blame
        logger.exception("import run %s: chunk failed, retrying record by record", run.pk)
    outcome = ChunkOutcome()
    for record in records:
        try:
            single = _write_chunk(run, [record])
        except Exception as exc:  # noqa: BLE001
            outcome.errors.append(
                {"file": run.file_path, "record": record.external_id, "field": "", "message": f"could not be stored: {exc}"}
            )
            continue
        outcome.created += single.created
        outcome.updated += single.updated
        outcome.unchanged += single.unchanged
    return outcome


class ChunkWriter:
    """Writes chunks inline, or — on PostgreSQL outside a transaction — on a second thread.

    Most of a chunk's write is the server storing rows and checking constraints, time in which
    the client holds no GIL; writing on a thread lets the next chunk be parsed meanwhile. At most
    one chunk waits behind the one being written, so memory stays flat. Inside an enclosing
    transaction (tests) the thread's own connection could not see the run, so writes stay inline.
    """

    def __init__(self, run: ImportRun, on_written):
        self.run = run
        self.on_written = on_written
        threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") if threaded else None
        self.pending: deque[tuple[Future, int]] = deque()

    def write(self, records: list[CanonicalProblem], done: int) -> None:
        if self.pool is None:
            self.on_written(_write_chunk_isolating_failures(self.run, records), done)
            return
        self.pending.append((self.pool.submit(_write_chunk_isolating_failures, self.run, records), done))
        while len(self.pending) > 1:
            self._collect()

    def _collect(self) -> None:
        future, done = self.pending.popleft()
        self.on_written(future.result(), done)

    def close(self, *, wait_for_all: bool = True) -> None:
        if self.pool is None:
            return
        try:
            while wait_for_all and self.pending:
                self._collect()
        finally:
            # The writer thread's connection is its own: close it there.
            self.pool.submit(lambda: connection.close()).result()
            self.pool.shutdown(wait=True, cancel_futures=True)


def import_run_execute(run_id: int, *, chunk_size: int | None = None) -> ImportRun:
    """Stream the file into the store. Idempotent: a rerun of the same file changes nothing."""
    run = ImportRun.objects.select_related("source").get(pk=run_id)
    if run.is_finished:
        return run
    chunk_size = chunk_size or settings.IMPORT_CHUNK_SIZE
    path = Path(run.file_path)
    run_start(run, total=estimate_record_count(path))
    importer = get_importer(run.format, import_limits())
    errors: list[dict] = []
    counts = {"created_count": 0, "updated_count": 0, "unchanged_count": 0, "failed_count": 0}
    seen_ids: set[str] = set()
    chunk: list[CanonicalProblem] = []
    done = 0

    def written(outcome: ChunkOutcome, done_at: int) -> None:
        counts["created_count"] += outcome.created
        counts["updated_count"] += outcome.updated
        counts["unchanged_count"] += outcome.unchanged
        counts["failed_count"] += len(outcome.errors)
        errors.extend(outcome.errors)
        total = run.total if run.total is None or run.total >= done_at else done_at
        run_progress(run, done=done_at, total=total, **counts)

    writer = ChunkWriter(run, written)

    def flush() -> None:
        writer.write(list(chunk), done)
        chunk.clear()

    try:
        for item in importer.iter_records(path):
            done += 1
            if isinstance(item, RecordError):
                counts["failed_count"] += 1
                errors.append({"file": item.file, "record": item.record, "field": item.field, "message": item.message})
                continue
            if item.external_id in seen_ids:
                counts["failed_count"] += 1
                errors.append(
                    {"file": str(path), "record": item.external_id, "field": "external_id", "message": "duplicate id in this import; first occurrence kept"}
                )
                continue
            seen_ids.add(item.external_id)
            chunk.append(item)
            if len(chunk) >= chunk_size:
                flush()
        if chunk:
            flush()
        writer.close()
    except Exception as exc:  # noqa: BLE001 — the run row must say what happened
        logger.exception("import run %s failed", run.pk)
        writer.close(wait_for_all=False)
        run.errors = errors + [{"file": str(path), "record": "", "field": "", "message": f"import aborted: {exc}"}]
        for name, value in counts.items():
            setattr(run, name, value)
        run_finish(run, failed=True, message=str(exc))
        return run
    run.errors = errors
    for name, value in counts.items():
        setattr(run, name, value)
    run.total = done
    run.done = done
    run_finish(run)
    return run


def import_run_enqueue(run: ImportRun) -> None:
    """Dispatch after commit, so the worker never looks for a row that is not there yet."""
    from curation.tasks.imports import import_problems_task

    transaction.on_commit(lambda: import_problems_task.delay(run.pk))

