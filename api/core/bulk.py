"""Plain multi-row INSERTs for set-based writes of many rows.

Django's ``bulk_create`` compiles SQL per object and, on SQLite, splits into batches of 999
parameters; for thousands of rows this sends one ``executemany`` of a parameterised INSERT
instead (mysqlclient turns it into multi-row INSERTs). Values go in as query parameters.
"""

from collections.abc import Mapping, Sequence
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


def update_by_pk(model: Any, column: str, values: Mapping[Any, Any], *, add: bool = False) -> int:
    """Set ``column`` to ``values[pk]`` on each row (``add``: add it instead) in one UPDATE,
    written out — Django's ``bulk_update`` costs more to build than the statement to run. No
    signals, no ``auto_now``. Returns the rows changed."""
    if not values:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    name = connection.ops.quote_name(column)
    pk = connection.ops.quote_name(model._meta.pk.column)
    keys = list(values)
    cases = " ".join(["WHEN %s THEN %s"] * len(keys))
    new = f"{name} + CASE {pk} {cases} ELSE 0 END" if add else f"CASE {pk} {cases} END"
    placeholders = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {name} = {new} WHERE {pk} IN ({placeholders})",  # noqa: S608 - names from model meta
            [v for key in keys for v in (key, values[key])] + keys,
        )
        return int(cursor.rowcount)
