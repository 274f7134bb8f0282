"""Importers: turn published problem datasets into `CanonicalProblem` records (pure Python).

    from curation.collect import get_importer
    for rec in get_importer("leetcodedataset").iter_records(path):
        if isinstance(rec, RecordError): ...

Importing this package registers every format.
"""
from __future__ import annotations

from .importer import FieldError, ImportLimits, Importer, UnknownFormatError
from .records import CanonicalProblem, CanonicalSolution, CanonicalTest, RecordError
from .registry import available_formats, get_importer, register

# Import every importer module so that it registers its format.
from . import (  # noqa: E402,F401  isort: skip
    apps_dataset,
    canonical_jsonl,
    codecontests_dir,
    codecontests_hf,
    kattis,
    leetcodedataset,
    livecodebench,
    taco,
)
from .canonical_jsonl import write_canonical_jsonl  # noqa: E402

__all__ = [
    "CanonicalProblem",
    "CanonicalSolution",
    "CanonicalTest",
    "FieldError",
    "ImportLimits",
    "Importer",
    "RecordError",
    "UnknownFormatError",
    "available_formats",
    "get_importer",
    "register",
    "write_canonical_jsonl",
]
