"""Small helpers for the importer tests (pure Python, no Django)."""
from __future__ import annotations

from pathlib import Path

from curation.collect import CanonicalProblem, ImportLimits, RecordError, get_importer

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "collect"
SHARED_DATA = REPO.parent / "shared" / "data"


def run(fmt: str, path, limits: ImportLimits | None = None) -> tuple[list[CanonicalProblem], list[RecordError]]:
    ok: list[CanonicalProblem] = []
    errors: list[RecordError] = []
    for rec in get_importer(fmt, limits).iter_records(path):
        if isinstance(rec, RecordError):
            errors.append(rec)
        else:
            assert isinstance(rec, CanonicalProblem)
            ok.append(rec)
    return ok, errors


def by_id(problems: list[CanonicalProblem]) -> dict[str, CanonicalProblem]:
    return {p.external_id: p for p in problems}
