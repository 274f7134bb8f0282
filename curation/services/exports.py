"""Exports: a snapshot written to a file in one of the training formats, as a background job.

`export_create` makes the row (one transaction, one audit event) and dispatches the Celery task
after commit; `export_execute` (what the task calls) streams the snapshot's items in batches
through a pure writer from `curation.exports` into a file under MEDIA_ROOT/exports/, updating
progress on the row, then records size and sha256 and emits `export.finished`. The same snapshot,
format and options give byte-identical files.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from curation.exports import ExportOptionsError, export_options_normalize, get_writer, split_assign
from curation.models import DatasetSnapshot, Export, RunStatus, SnapshotItem
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures, run_finish, run_progress, run_start

logger = logging.getLogger(__name__)

EXPORT_DIR = "exports"

__all__ = [
    "ExportOptionsError", "export_create", "export_execute", "export_enqueue", "export_file_path", "export_event_payload",
]


def export_create(*, snapshot: DatasetSnapshot, format: str, user, options: dict | None = None) -> Export:
    """Validate the request and make the pending Export row; the task runs after commit.
    Raises ExportOptionsError naming the bad field (`format`, `split_by`, `cutoff`, ...)."""
    get_writer(format)  # unknown format → ExportOptionsError("format", ...)
    normalized = export_options_normalize(format, options)
    with transaction.atomic():
        export = Export.objects.create(
            snapshot=snapshot,
            format=format,
            options=normalized,
            total=snapshot.problem_count,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit_event_record(
            actor=user, action="export_create", target=export,
            after={"snapshot": snapshot.pk, "format": format, "options": normalized},
        )
        export_enqueue(export)
    return export


def export_enqueue(export: Export) -> None:
    from curation.tasks.exports import export_run_task

    transaction.on_commit(lambda: export_run_task.delay(export.pk))


def export_file_path(export: Export) -> Path | None:
    """The finished file on disk, or None."""
    if not export.file or export.status != RunStatus.SUCCEEDED:
        return None
    path = Path(settings.MEDIA_ROOT) / export.file
    return path if path.is_file() else None


def _relative_name(export: Export, extension: str) -> str:
    snap = export.snapshot
    return f"{EXPORT_DIR}/{export.pk:06d}-{slugify(snap.name) or 'snapshot'}-v{snap.version}-{export.format}.{extension}"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export_execute(export_id: int) -> Export:
    """Write the file. Idempotent: a finished export is left alone; a redelivered one starts over."""
    export = Export.objects.select_related("snapshot").get(pk=export_id)
    if export.is_finished:
        return export
    writer_cls = get_writer(export.format)
    options = export_options_normalize(export.format, export.options)
    batch_size = options["batch_size"]
    relative = _relative_name(export, writer_cls.extension)
    final_path = Path(settings.MEDIA_ROOT) / relative
    final_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = final_path.with_name(final_path.name + ".part")
    run_start(export, total=export.snapshot.problem_count)
    done = 0
    try:
        with tmp_path.open("wb") as fp:
            writer = writer_cls(fp, options)
            rows = (
                SnapshotItem.objects.filter(snapshot_id=export.snapshot_id)
                .order_by("ordinal")
                .values_list("ordinal", "problem_id", "data")
                .iterator(chunk_size=batch_size)
            )
            failures = ProblemFailures(export, "export", stage="export")
            batch: list[tuple[int | None, dict]] = []
            for ordinal, problem_id, data in rows:
                data["ordinal"] = ordinal
                data["split"] = split_assign(data, options)
                batch.append((problem_id, data))
                if len(batch) >= batch_size:
                    done += _write_isolated(writer, batch, failures)
                    batch = []
                    run_progress(export, done=done)
            if batch:
                done += _write_isolated(writer, batch, failures)
            writer.close()
        os.replace(tmp_path, final_path)
    except Exception as exc:  # noqa: BLE001 — the row must say what happened
        logger.exception("export %s failed", export.pk)
        tmp_path.unlink(missing_ok=True)
        export.errors = [{"record": str(done), "field": "", "message": f"{type(exc).__name__}: {exc}"}]
        export.done = done
        run_finish(export, failed=True, message=f"export failed: {exc}")
        _emit_finished(export)
        return export
    export.file = relative
    export.size_bytes = final_path.stat().st_size
    export.sha256 = _sha256_file(final_path)
    export.done = done
    export.total = done
    run_finish(export, message=f"{done} problems written" + (f", {len(export.errors)} left out" if export.errors else ""))
    _emit_finished(export)
    return export


ITEM_ERRORS = (ValueError, KeyError, TypeError)  # JudgeSpecError is a ValueError


def _write_isolated(writer, batch: list[tuple[int | None, dict]], failures: ProblemFailures) -> int:
    """Write a batch; should one item's data break the writer (a frozen item it cannot read: a
    ValueError, KeyError or TypeError), write the batch item by item so only that item is left
    out, recorded with its reason. Writers build every row of a batch before writing any byte,
    so a failed batch leaves nothing behind. Anything else (the disk, the writer) fails the export."""
    try:
        writer.write_batch([data for _pid, data in batch])
        return len(batch)
    except ITEM_ERRORS:
        written = 0
        for problem_id, data in batch:
            try:
                writer.write_batch([data])
                written += 1
            except ITEM_ERRORS as exc:
                failures.record(problem_id if problem_id is not None else data.get("problem_key"), exc)
        return written


def export_event_payload(export: Export) -> dict:
    return {
        "id": export.pk,
        "snapshot": export.snapshot_id,
        "format": export.format,
        "status": export.status,
        "size_bytes": export.size_bytes,
        "sha256": export.sha256,
        "message": export.message,
    }


def _emit_finished(export: Export) -> None:
    from curation.services.webhooks import webhook_event_emit

    payload = export_event_payload(export)
    transaction.on_commit(lambda: webhook_event_emit("export.finished", payload))
