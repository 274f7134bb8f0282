"""Shared pieces of the export writers: options, the train/validation split and prompts.

Pure Python (no Django). A writer receives frozen snapshot items — the `SnapshotItem.data`
dicts built by `curation.services.snapshots.problem_freeze` — in batches, each with a `split`
key added by the driver, and writes them to a binary file object.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import IO, Any

from curation.errors import FieldError
from curation.judge.spec import JudgeSpec
from curation.llm.prompts import problem_instruction
from curation.vocabulary import IO_FUNCTIONAL

SPLIT_TRAIN = "train"
SPLIT_VALIDATION = "validation"

DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 10_000


class ExportOptionsError(FieldError):
    """Bad export options; `field` names the offending option."""


def options_normalize(options: dict[str, Any] | None, *, extra_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate and fill in the export options; raises ExportOptionsError naming the field.

    split_by: "none" (default) | "date" (needs `cutoff`, YYYY-MM-DD: problems dated on or after it
    go to validation) | "hash" (`validation_fraction`, default 0.1, deterministic by problem_key).
    batch_size: rows per write (and per Parquet row group), default 500.
    """
    options = dict(options or {})
    known = {"split_by", "cutoff", "validation_fraction", "batch_size", *extra_keys}
    for key in options:
        if key not in known:
            raise ExportOptionsError(key, f"unknown option; known options: {', '.join(sorted(known))}")
    out: dict[str, Any] = {}
    split_by = options.get("split_by") or "none"
    if split_by not in ("none", "date", "hash"):
        raise ExportOptionsError("split_by", "expected one of none, date, hash")
    out["split_by"] = split_by
    if split_by == "date":
        cutoff = options.get("cutoff")
        if not cutoff:
            raise ExportOptionsError("cutoff", "required when split_by is date (YYYY-MM-DD)")
        try:
            out["cutoff"] = dt.date.fromisoformat(str(cutoff)).isoformat()
        except ValueError:
            raise ExportOptionsError("cutoff", f"not a date (YYYY-MM-DD): {cutoff!r:.40}") from None
    elif "cutoff" in options:
        raise ExportOptionsError("cutoff", "only valid with split_by=date")
    if split_by == "hash":
        fraction = options.get("validation_fraction", 0.1)
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
            raise ExportOptionsError("validation_fraction", "expected a number between 0 and 1")
        out["validation_fraction"] = float(fraction)
    elif "validation_fraction" in options:
        raise ExportOptionsError("validation_fraction", "only valid with split_by=hash")
    batch_size = options.get("batch_size", DEFAULT_BATCH_SIZE)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ExportOptionsError("batch_size", f"expected an integer between 1 and {MAX_BATCH_SIZE}")
    out["batch_size"] = batch_size
    for key in extra_keys:
        if key in options:
            if not isinstance(options[key], str) or not options[key]:
                raise ExportOptionsError(key, "expected a non-empty string")
            out[key] = options[key]
    return out


def hash_unit_interval(key: str) -> float:
    """A stable number in [0, 1) from a string: the same problem_key always lands in the same split."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64


def split_assign(item: dict[str, Any], options: dict[str, Any]) -> str:
    split_by = options.get("split_by", "none")
    if split_by == "date":
        date = item.get("contest_date")
        # Undated problems cannot be shown to be recent: they train.
        return SPLIT_VALIDATION if date and date[:10] >= options["cutoff"] else SPLIT_TRAIN
    if split_by == "hash":
        return SPLIT_VALIDATION if hash_unit_interval(item["problem_key"]) < options["validation_fraction"] else SPLIT_TRAIN
    return SPLIT_TRAIN


def prompt_text(item: dict[str, Any]) -> str:
    """The user message: the statement, then the format instruction (the stored one, or a default)."""
    instruction = problem_instruction(item.get("format_instruction"), item.get("io_format"),
                                      item.get("function_name"), item.get("starter_code"))
    return f"{item['statement'].rstrip()}\n\n{instruction}"


def tests_ground_truth(item: dict[str, Any]) -> str:
    """Tests as one JSON string in the APPS/TACO shape that code reward functions read
    (`inputs`, `outputs`, `fn_name`), plus the whole judge spec without its tests (io format,
    comparison rule, limits, entry point, prelude): `JudgeSpec.from_item(json.loads(...))` gives
    back exactly how the problem was judged here."""
    tests = item.get("tests") or []
    payload: dict[str, Any] = {
        "inputs": [t["input"] for t in tests],
        "outputs": [t["output"] for t in tests],
    }
    if item.get("io_format") == IO_FUNCTIONAL and item.get("function_name"):
        payload["fn_name"] = item["function_name"]
    if "judge" not in item or item["judge"] is not None:
        # A stored spec that does not read back is a broken item (the export leaves it out);
        # `judge: null` is a problem frozen as not judgeable: the APPS keys only, as before.
        judge = JudgeSpec.from_item(item).to_dict()
        del judge["tests"]  # already there as inputs/outputs
        payload.update(judge)
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


class Writer:
    """Base class: `write_batch(items)` any number of times, then `close()`."""

    name = ""
    extension = ""
    media_type = "application/octet-stream"
    extra_option_keys: tuple[str, ...] = ()

    def __init__(self, fp: IO[bytes], options: dict[str, Any]):
        self.fp = fp
        self.options = options
        self.rows = 0

    def write_batch(self, items: list[dict[str, Any]]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        self.fp.flush()


class JsonlWriter(Writer):
    extension = "jsonl"
    media_type = "application/jsonl"

    def row(self, item: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def write_batch(self, items: list[dict[str, Any]]) -> None:
        lines = [json.dumps(self.row(item), ensure_ascii=False) for item in items]
        if lines:
            self.fp.write(("\n".join(lines) + "\n").encode("utf-8"))
        self.rows += len(lines)
