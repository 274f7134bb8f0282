"""Full-text search reads a stored tsvector column instead of computing one per row (PostgreSQL
only; SQLite keeps the LIKE fallback in curation.filters).

Why: with the 0009 expression index, a common word ("tree" in nearly every statement at 100k
problems) makes the planner scan the table and recompute to_tsvector(title || statement) on
every row: ~7 s per list query (EXPLAIN ANALYZE in benchmarks/ui_latency.py's notes). A
generated column is computed once per write and read cheaply by any plan; its GIN index serves
rare words. The expression index of 0009 is replaced by the column's index; a trigram index on the
external id serves the search's id-substring branch."""
from django.db import migrations

ADD_COLUMN = (
    "ALTER TABLE curation_problem ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || coalesce(statement, ''))) STORED"
)
VECTOR_INDEX = "CREATE INDEX IF NOT EXISTS curation_problem_search_vector ON curation_problem USING gin (search_vector)"
# The search's external-id branch is Django's icontains (UPPER(col::text) LIKE UPPER('%x%')): with
# this index every branch of the OR is indexed and a rare word is a BitmapOr, not a table scan.
EXTERNAL_ID_INDEX = (
    "CREATE INDEX IF NOT EXISTS curation_problem_external_id_trgm ON curation_problem "
    "USING gin ((UPPER(external_id::text)) gin_trgm_ops)"
)
OLD_FTS_INDEX = (
    "CREATE INDEX IF NOT EXISTS curation_problem_fts ON curation_problem USING gin "
    "(to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || coalesce(statement, '')))"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(ADD_COLUMN)
    schema_editor.execute(VECTOR_INDEX)
    schema_editor.execute(EXTERNAL_ID_INDEX)
    schema_editor.execute("DROP INDEX IF EXISTS curation_problem_fts")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(OLD_FTS_INDEX)
    schema_editor.execute("DROP INDEX IF EXISTS curation_problem_search_vector")
    schema_editor.execute("DROP INDEX IF EXISTS curation_problem_external_id_trgm")
    schema_editor.execute("ALTER TABLE curation_problem DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    dependencies = [("curation", "0010_merge_20261128_0704")]
    operations = [migrations.RunPython(forwards, backwards)]
