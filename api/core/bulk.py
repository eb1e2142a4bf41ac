"""Plain multi-row INSERTs for set-based writes of many rows.

Django's ``bulk_create`` compiles SQL per object and, on SQLite, splits into batches of 999
parameters; for thousands of rows this sends one ``executemany`` of a parameterised INSERT
instead (mysqlclient turns it into multi-row INSERTs). Values go in as query parameters.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection


def insert_rows(model: Any, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``model``'s table. No signals, no
    defaults: give every non-null column."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    adapt = connection.ops.adapt_datetimefield_value
    prepared = [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in rows]
    sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 - names from model meta
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
