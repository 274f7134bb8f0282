"""Export writers: pure Python (no Django), one class per format.

    writer = get_writer("verl")(fp, options_normalize(options, extra_keys=...))
    writer.write_batch(items); ...; writer.close()

`curation.services.exports` drives them from snapshot items in batches.
"""
from __future__ import annotations

from .base import (
    SPLIT_TRAIN,
    SPLIT_VALIDATION,
    ExportOptionsError,
    Writer,
    options_normalize,
    prompt_text,
    split_assign,
    tests_ground_truth,
)
from .jsonl import CanonicalJsonlWriter, item_to_canonical
from .livecodebench import LiveCodeBenchWriter
from .parquet import SnapshotParquetWriter, TrlWriter, VerlWriter

WRITERS: dict[str, type[Writer]] = {
    cls.name: cls
    for cls in (CanonicalJsonlWriter, SnapshotParquetWriter, VerlWriter, TrlWriter, LiveCodeBenchWriter)
}
EXPORT_FORMATS = tuple(WRITERS)


def get_writer(name: str) -> type[Writer]:
    try:
        return WRITERS[name]
    except KeyError:
        raise ExportOptionsError("format", f"unknown export format {name!r}; known formats: {', '.join(EXPORT_FORMATS)}") from None


def export_options_normalize(format_name: str, options: dict | None) -> dict:
    return options_normalize(options, extra_keys=get_writer(format_name).extra_option_keys)


__all__ = [
    "EXPORT_FORMATS", "WRITERS", "ExportOptionsError", "Writer", "get_writer", "export_options_normalize",
    "options_normalize", "split_assign", "prompt_text", "tests_ground_truth", "item_to_canonical",
    "SPLIT_TRAIN", "SPLIT_VALIDATION",
]
