"""Fast inserts for large imports: PostgreSQL COPY where available, bulk_create elsewhere.

Django's bulk_create builds one big parameterised INSERT, which costs more CPU than the database
spends storing the rows; COPY streams them. Ids come from the table's own sequence, so the rows
are indistinguishable from ones bulk_create would have written.
"""
from __future__ import annotations

import orjson

from django.db import connection, models


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
        )
        return [row[0] for row in cursor.fetchall()]


def insert_values(
    model: type[models.Model], columns: list[str], rows: list[tuple], *, return_ids: bool = False, batch_size: int = 2000
) -> list[int]:
    """Insert plain value tuples (no model instances: the hot path of an import).

    `columns` are field names (`problem` for a foreign key takes the id). With `return_ids`,
    returns the new primary keys in row order.
    """
    if not rows:
        return []
    fields = [model._meta.get_field(name) for name in columns]
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create(
            [model(**dict(zip([f.attname for f in fields], row))) for row in rows], batch_size=batch_size
        )
        return [obj.pk for obj in objs] if return_ids else []
    ids: list[int] = []
    if return_ids:
        ids = allocate_ids(model, len(rows))
        fields = [model._meta.pk] + fields
        rows = [(pk, *row) for pk, row in zip(ids, rows)]
    json_positions = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        # COPY's text format: JSON columns take their JSON text, which the server parses.
        with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
            for row in rows:
                if json_positions:
                    row = list(row)
                    for i in json_positions:
                        value = row[i]
                        # Most JSON cells of an import are empty: skip the encoder for them.
                        row[i] = "[]" if value == [] else "{}" if value == {} else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
                copy.write_row(row)
    return ids
