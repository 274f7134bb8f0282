"""Parquet writers (pyarrow): the full snapshot table, verl's RL format and a TRL prompt dataset.

Each batch becomes one row group, so memory stays flat however large the snapshot. Schemas are
explicit (a batch of nulls never changes a column's type) and nothing time-dependent is written,
so the same snapshot gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curation.judge.spec import JudgeSpec
from curation.vocabulary import DIMENSIONS  # the rubric's dimensions, one source

from .base import Writer, prompt_text, tests_ground_truth

SCORES = pa.struct([(dim, pa.float64()) for dim in DIMENSIONS])
MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


class ArrowWriter(Writer):
    extension = "parquet"
    media_type = "application/vnd.apache.parquet"
    schema: pa.Schema

    def __init__(self, fp, options):
        super().__init__(fp, options)
        self._writer = pq.ParquetWriter(fp, self.schema, compression="zstd", store_schema=True)

    def row(self, item: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def write_batch(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        table = pa.Table.from_pylist([self.row(item) for item in items], schema=self.schema)
        self._writer.write_table(table, row_group_size=len(items))
        self.rows += len(items)

    def close(self) -> None:
        self._writer.close()
        super().close()


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _scores(item: dict[str, Any]) -> dict[str, float | None]:
    scores = item.get("scores") or {}
    return {dim: scores.get(dim) for dim in DIMENSIONS}


class SnapshotParquetWriter(ArrowWriter):
    """Every frozen fact, one row per problem; tests and solutions as nested lists."""

    name = "parquet"
    schema = pa.schema(
        [
            ("problem_key", pa.string()),
            ("source", pa.string()),
            ("external_id", pa.string()),
            ("platform", pa.string()),
            ("contest_id", pa.string()),
            ("problem_index", pa.string()),
            ("contest_date", pa.date32()),
            ("url", pa.string()),
            ("title", pa.string()),
            ("statement", pa.string()),
            ("format_instruction", pa.string()),
            ("prompt", pa.string()),
            ("io_format", pa.string()),
            ("function_name", pa.string()),
            ("signature", pa.string()),
            ("starter_code", pa.string()),
            ("comparison", pa.string()),
            ("time_limit_ms", pa.int64()),
            ("memory_limit_mb", pa.int64()),
            ("tags", pa.list_(pa.string())),
            ("difficulty_label", pa.string()),
            ("difficulty_rating", pa.int64()),
            ("tests", pa.list_(pa.struct([("input", pa.string()), ("output", pa.string()), ("kind", pa.string())]))),
            ("solutions", pa.list_(pa.struct([("language", pa.string()), ("code", pa.string())]))),
            ("scores", SCORES),
            ("weighted_score", pa.float64()),
            ("calibrated_pass_rate", pa.float64()),
            ("bucket", pa.string()),
            ("review_status", pa.string()),
            ("verification_status", pa.string()),
            ("content_hash", pa.string()),
            ("problem_version", pa.int64()),
            ("split", pa.string()),
        ]
    )

    def row(self, item):
        return {
            "problem_key": item["problem_key"],
            "source": item.get("source") or "",
            "external_id": item["external_id"],
            "platform": item.get("platform") or "",
            "contest_id": item.get("contest_id") or "",
            "problem_index": item.get("problem_index") or "",
            "contest_date": _date(item.get("contest_date")),
            "url": item.get("url") or "",
            "title": item["title"],
            "statement": item["statement"],
            "format_instruction": item.get("format_instruction") or "",
            "prompt": prompt_text(item),
            "io_format": item.get("io_format") or "stdin",
            "function_name": item.get("function_name") or "",
            "signature": item.get("signature") or "",
            "starter_code": item.get("starter_code") or "",
            "comparison": json.dumps(item.get("comparison") or {"mode": "tokens"}, sort_keys=True),
            "time_limit_ms": item.get("time_limit_ms"),
            "memory_limit_mb": item.get("memory_limit_mb"),
            "tags": list(item.get("tags") or []),
            "difficulty_label": item.get("difficulty_label") or "",
            "difficulty_rating": item.get("difficulty_rating"),
            "tests": [{"input": t["input"], "output": t["output"], "kind": t.get("kind", "hidden")} for t in item.get("tests") or []],
            "solutions": [{"language": s.get("language", "python3"), "code": s["code"]} for s in item.get("solutions") or []],
            "scores": _scores(item),
            "weighted_score": item.get("weighted_score"),
            "calibrated_pass_rate": item.get("calibrated_pass_rate"),
            "bucket": item.get("bucket") or "",
            "review_status": item.get("review_status") or "",
            "verification_status": item.get("verification_status") or "",
            "content_hash": item["content_hash"],
            "problem_version": item.get("problem_version"),
            "split": item.get("split", "train"),
        }


def _data_source(option: str | None, item: dict[str, Any]) -> str:
    """The row's verl data_source. `{bucket}` in the option becomes the problem's difficulty, so
    a validation export named `lcb-v6/{bucket}` gives verl's val-core/<source>/... metrics per
    difficulty during training."""
    if not option:
        return item.get("source") or "microcoder"
    return option.replace("{bucket}", item.get("bucket") or item.get("difficulty_label") or "unknown")


class VerlWriter(ArrowWriter):
    """verl's RL dataset: data_source, prompt (chat list), ability, reward_model {style,
    ground_truth}, extra_info. ground_truth is a JSON string {inputs, outputs, fn_name?,
    io_format, comparison}, the shape verl's code reward (prime_code) reads. Option
    `data_source` overrides the per-row source name (verl routes its default reward by it); a
    `{bucket}` in it is replaced by the problem's difficulty bucket."""

    name = "verl"
    extra_option_keys = ("data_source",)
    schema = pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", MESSAGES),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("index", pa.int64()),
                        ("id", pa.string()),
                        ("split", pa.string()),
                        ("bucket", pa.string()),
                        ("scores", SCORES),
                        ("weighted_score", pa.float64()),
                        ("calibrated_pass_rate", pa.float64()),
                        ("content_hash", pa.string()),
                    ]
                ),
            ),
        ]
    )

    def row(self, item):
        return {
            "data_source": _data_source(self.options.get("data_source"), item),
            "prompt": [{"role": "user", "content": prompt_text(item)}],
            "ability": "code",
            "reward_model": {"style": "rule", "ground_truth": tests_ground_truth(item)},
            "extra_info": {
                "index": item.get("ordinal", 0),
                "id": item["problem_key"],
                "split": item.get("split", "train"),
                "bucket": item.get("bucket") or "",
                "scores": _scores(item),
                "weighted_score": item.get("weighted_score"),
                "calibrated_pass_rate": item.get("calibrated_pass_rate"),
                "content_hash": item["content_hash"],
            },
        }


class TrlWriter(ArrowWriter):
    """A TRL prompt-only conversational dataset (GRPOTrainer): `prompt` as a message list; the
    other columns are passed to the reward function as keyword arguments."""

    name = "trl"
    schema = pa.schema(
        [
            ("prompt", MESSAGES),
            ("tests", pa.string()),
            ("io_format", pa.string()),
            ("function_name", pa.string()),
            ("comparison", pa.string()),
            ("problem_key", pa.string()),
            ("bucket", pa.string()),
            ("weighted_score", pa.float64()),
            ("calibrated_pass_rate", pa.float64()),
            ("split", pa.string()),
            # The whole judge spec but its tests (limits, entry point, prelude, rule): the reward
            # judges exactly as verification did (training_jobs.reward.judge_spec_from_columns).
            ("judge", pa.string()),
        ]
    )

    def row(self, item):
        judge = JudgeSpec.from_item(item).to_dict()
        del judge["tests"]  # already in the tests column
        return {
            "judge": json.dumps(judge, sort_keys=True),
            "prompt": [{"role": "user", "content": prompt_text(item)}],
            "tests": json.dumps(
                [{"input": t["input"], "output": t["output"]} for t in item.get("tests") or []], ensure_ascii=False
            ),
            "io_format": item.get("io_format") or "stdin",
            "function_name": item.get("function_name") or "",
            "comparison": json.dumps(item.get("comparison") or {"mode": "tokens"}, sort_keys=True),
            "problem_key": item["problem_key"],
            "bucket": item.get("bucket") or "",
            "weighted_score": item.get("weighted_score"),
            "calibrated_pass_rate": item.get("calibrated_pass_rate"),
            "split": item.get("split", "train"),
        }
