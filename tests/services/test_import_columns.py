"""The PostgreSQL import path writes rows with COPY and an explicit column list, so a NOT NULL
column missing from that list fails only on PostgreSQL (Django's Python-side defaults do not
apply to COPY). This guard fails on any database as soon as a model gains such a column."""
import pytest

from curation.models import Problem, ReferenceSolution, SnapshotItem, TestCase
from curation.services import imports


@pytest.mark.parametrize("model, columns", [
    (Problem, imports.NEW_PROBLEM_COLUMNS),
    (TestCase, imports.TEST_COLUMNS),
    (ReferenceSolution, imports.SOLUTION_COLUMNS),
    (SnapshotItem, ["snapshot", "problem", "ordinal", "problem_key", "content_hash", "data"]),
])
def test_copy_column_lists_cover_every_not_null_column(model, columns):
    missing = [f.name for f in model._meta.concrete_fields
               if not f.primary_key and not f.null and f.name not in columns and not f.has_db_default()]
    assert missing == [], f"{model.__name__}: add {missing} to the COPY column list (with its default)"
