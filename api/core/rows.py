"""Short public lists read as rows: one written-out statement for a page and its total, and the
column values turned into what the ORM would have made of them.

A page of stores or categories through a queryset, the paginator and a ``ModelSerializer`` cost
about 3 ms of CPU, nearly all of it building and compiling two statements, making twenty model
instances and walking the serializer's fields; the two statements themselves take a fraction of
a millisecond. Read as rows, a page costs one statement (the total rides along as a window
count) and a loop over tuples. Each list keeps its serializer as the definition of what it shows
(and of its OpenAPI schema); a test holds the rows' shape to the serializer's output.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

Converter = Callable[[Any], Any]


def converters(model: type[Model], columns: Sequence[str]) -> dict[int, Converter]:
    """For the positions among ``model``'s ``columns`` (field names) whose values need it, what
    turns a value as the database driver returns it into the one the ORM would give (a datetime
    from SQLite's text, an aware one from MariaDB's naive one, a decimal, a boolean): the
    backend's converters and then the field's, as Django's compiler applies them."""
    table = model._meta.db_table
    made: dict[int, Converter] = {}
    for position, column in enumerate(columns):
        field = model._meta.get_field(column)
        assert isinstance(field, Field), f"{column} is a relation, not a column"
        expression = field.get_col(table)
        steps = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if steps:
            made[position] = _chain(steps, expression)
    return made


def _chain(steps: list[Callable[..., Any]], expression: Any) -> Converter:
    def convert(value: Any) -> Any:
        for step in steps:
            value = step(value, expression, connection)
        return value

    return convert


def convert(found: Sequence[Sequence[Any]], conversions: dict[int, Converter]) -> list[list[Any]]:
    """``found``'s rows with ``conversions`` (from ``converters``) applied."""
    converted = []
    for row in found:
        values = list(row)
        for position, to in conversions.items():
            values[position] = to(values[position])
        converted.append(values)
    return converted


def page(
    *, columns: str, source: str, order: str, params: Sequence[Any], offset: int, limit: int
) -> tuple[list[tuple], int]:
    """Rows ``offset`` to ``offset + limit`` of ``SELECT {columns} FROM {source} ORDER BY
    {order}`` and how many rows there are in all, in one statement: a window count rides on
    each row. Only a page past the end, or ``limit`` 0 (the total alone), costs a ``COUNT``.
    ``source`` is the ``FROM`` clause on (tables, joins, ``WHERE``), with ``params`` for its
    placeholders."""
    with connection.cursor() as cursor:
        if limit:
            cursor.execute(
                f"SELECT {columns}, COUNT(*) OVER () FROM {source} "  # noqa: S608 - written here
                f"ORDER BY {order} LIMIT %s OFFSET %s",
                [*params, limit, offset],
            )
            found = cursor.fetchall()
            if found:
                return [row[:-1] for row in found], int(found[0][-1])
        cursor.execute(f"SELECT COUNT(*) FROM {source}", list(params))  # noqa: S608
        return [], int(cursor.fetchone()[0])
