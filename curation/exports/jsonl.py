"""JSON Lines writer of our canonical schema (round-trips through the `canonical-jsonl` importer).
LiveCodeBench's rows are written by `livecodebench.py`."""
from __future__ import annotations

from typing import Any

from curation.collect.canonical_jsonl import canonical_json_line
from curation.collect.records import CanonicalProblem, CanonicalSolution, CanonicalTest

from .base import JsonlWriter

# Facts of the snapshot that the canonical schema has no column for travel in extra["microcoder"].
MICROCODER_FACTS = (
    "problem_key", "source", "content_hash", "problem_version", "format_instruction", "signature",
    "scores", "weighted_score", "calibrated_pass_rate", "bucket", "review_status", "verification_status",
)


def item_to_canonical(item: dict[str, Any]) -> CanonicalProblem:
    import datetime as dt

    facts = {key: item.get(key) for key in MICROCODER_FACTS}
    facts["split"] = item.get("split", "train")
    return CanonicalProblem(
        external_id=item["external_id"],
        title=item["title"],
        statement=item["statement"],
        platform=item.get("platform") or "",
        contest_id=item.get("contest_id") or "",
        problem_index=item.get("problem_index") or "",
        contest_date=dt.date.fromisoformat(item["contest_date"]) if item.get("contest_date") else None,
        url=item.get("url") or "",
        io_format=item.get("io_format") or "stdin",
        starter_code=item.get("starter_code") or "",
        function_name=item.get("function_name") or "",
        time_limit_ms=item.get("time_limit_ms"),
        memory_limit_mb=item.get("memory_limit_mb"),
        tags=list(item.get("tags") or []),
        difficulty_label=item.get("difficulty_label") or "",
        difficulty_rating=item.get("difficulty_rating"),
        comparison=item.get("comparison") or {"mode": "tokens"},
        tests=[CanonicalTest(input=t["input"], output=t["output"], kind=t.get("kind", "hidden")) for t in item.get("tests") or []],
        solutions=[CanonicalSolution(code=s["code"], language=s.get("language", "python3")) for s in item.get("solutions") or []],
        flags=list(item.get("flags") or []),
        extra={"microcoder": facts},
    )


class CanonicalJsonlWriter(JsonlWriter):
    """One `CanonicalProblem.to_dict()` per line: the `canonical-jsonl` importer reads it back."""

    name = "canonical-jsonl"

    def write_batch(self, items: list[dict[str, Any]]) -> None:
        lines = [canonical_json_line(item_to_canonical(item)) for item in items]
        if lines:
            self.fp.write(("\n".join(lines) + "\n").encode("utf-8"))
        self.rows += len(lines)
