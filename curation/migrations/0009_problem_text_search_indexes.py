"""Full-text search over title + statement and a trigram index on titles, PostgreSQL only (SQLite
uses the simple LIKE fallback in curation.filters). The expressions must stay identical to the
ones in curation.filters.PG_TRGM_WHERE, or the planner will not use the indexes (0011 replaces
the full-text expression index by a stored column)."""
from django.db import migrations

FTS_INDEX = (
    "CREATE INDEX IF NOT EXISTS curation_problem_fts ON curation_problem USING gin "
    "(to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || coalesce(statement, '')))"
)
TRGM_INDEX = "CREATE INDEX IF NOT EXISTS curation_problem_title_trgm ON curation_problem USING gin (title gin_trgm_ops)"
TAGS_INDEX = "CREATE INDEX IF NOT EXISTS curation_problem_tags ON curation_problem USING gin (tags jsonb_path_ops)"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for sql in (FTS_INDEX, TRGM_INDEX, TAGS_INDEX):
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ("curation_problem_fts", "curation_problem_title_trgm", "curation_problem_tags"):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("curation", "0008_merge_20261128_0613")]
    operations = [migrations.RunPython(forwards, backwards)]
