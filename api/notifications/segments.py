"""Segments: which users a campaign is for, as filters over a whitelist of fields.

This port knows no domain model. Each field is registered by the app that owns its data, in
its ``AppConfig.ready()`` (accounts: ``account_type``, ``date_joined``, ``is_active``; orders:
``city``, ``last_purchase_at``, ``total_spent``; carts: ``cart_state``), as a column of the user
table or as an expression over a user row — a correlated subquery — that is added to the query
only when a filter or a grouping uses it.

Filters are a JSON object, one key per field, a value of the field's type:

* ``choice`` — a value or a list of values (``null`` in the list: no value, e.g. no city):
  ``{"account_type": "buyer"}``, ``{"city": ["Khartoum", "Omdurman"]}``;
* ``date`` — bounds, ``{"gte": "2026-01-01", "lt": "2026-02-01T12:00:00Z"}``; a bare date is
  midnight UTC (``lte`` a date takes in the whole day, ``gt`` a date starts at the next day);
  ``{"isnull": true}`` — never (no purchase);
* ``decimal`` — bounds, ``{"gte": "100", "lt": 500}``;
* ``bool`` — ``true`` or ``false``.

Every condition must hold (AND); values of one choice field are alternatives (OR). A key that
is not a field, or a value of the wrong type, is a ``ValidationError`` ``{field: [message]}``,
never a silent match-all. Staff users are never in a segment.

``preview`` counts the members, optionally grouped by up to three groupable fields, in one
query: counts and field values only, never an address.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import BaseExpression
from django.utils.dateparse import parse_date, parse_datetime

FieldType = Literal["choice", "date", "decimal", "bool"]
FIELD_TYPES: frozenset[str] = frozenset({"choice", "date", "decimal", "bool"})
BOUNDS = ("gt", "gte", "lt", "lte")
MAX_VALUES = 200  # values of one choice filter
MAX_VALUE_LENGTH = 200
MAX_DECIMAL = Decimal("1e12")
MAX_GROUP_BY = 3
GROUP_LIMIT = 500  # groups one preview returns, the largest first


@dataclass(frozen=True)
class SegmentField:
    """One field a segment may filter on. ``column`` is the user model's field, or the name the
    ``expression`` is added under; ``choices`` (for a choice field) are its only values, None
    when any text is a value (a city)."""

    name: str
    type: FieldType
    column: str
    expression: Callable[[], BaseExpression] | None = None
    groupable: bool = False
    choices: tuple[str, ...] | None = None
    description: str = ""


_fields: dict[str, SegmentField] = {}


def register_field(
    name: str,
    *,
    type: FieldType,
    column: str | None = None,
    expression: Callable[[], BaseExpression] | None = None,
    groupable: bool = False,
    choices: Iterable[str] | None = None,
    description: str = "",
) -> SegmentField:
    """Add a field to the whitelist: a column of the user model (``column``, default ``name``)
    or an ``expression`` over a user row (an ``OuterRef("pk")`` subquery, a ``Case``...) built
    when a query needs it (so ``timezone.now()`` inside it is the query's time). Registering
    the same field twice, differently, is a ValueError."""
    if type not in FIELD_TYPES:
        raise ValueError(f"segment field {name!r}: type {type!r} is not one of {FIELD_TYPES}")
    if groupable and type in ("date", "decimal"):
        raise ValueError(f"segment field {name!r}: only choice and bool fields group")
    field = SegmentField(
        name=name,
        type=type,
        # An expression gets a name no model field has, so it can't shadow one.
        column=column or (f"segment_{name}" if expression is not None else name),
        expression=expression,
        groupable=groupable,
        choices=tuple(choices) if choices is not None else None,
        description=description,
    )
    existing = _fields.get(name)
    if existing is not None and existing != field:
        raise ValueError(f"segment field {name!r} is registered twice, differently")
    _fields[name] = field
    return field


def all_fields() -> list[SegmentField]:
    return sorted(_fields.values(), key=lambda f: f.name)


def get_field(name: str) -> SegmentField:
    return _fields[name]


# --- validating ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    filters: dict[str, Any]  # canonical JSON, what a campaign stores
    conditions: dict[str, Q]  # field name → its condition
    fields: tuple[SegmentField, ...]


def _bound(value: Any, bound: str) -> tuple[str, datetime]:
    """The lookup and moment of one date bound. A bare date is whole days: ``lte 2026-01-31``
    takes in the 31st (``lt`` the next midnight), ``gt 2026-01-31`` starts on the 1st."""
    if not isinstance(value, str):
        raise ValueError(f"{bound}: a date (YYYY-MM-DD) or an ISO 8601 date-time")
    try:
        moment = parse_datetime(value) if "T" in value or " " in value else None
        day = None if moment is not None else parse_date(value)
    except ValueError:  # well formed but impossible: 2026-02-30
        moment = day = None
    if moment is not None:
        return bound, moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if day is None:
        raise ValueError(f"{bound}: a date (YYYY-MM-DD) or an ISO 8601 date-time")
    if bound in ("lte", "gt"):
        return {"lte": "lt", "gt": "gte"}[bound], datetime.combine(
            day + timedelta(days=1), time.min, tzinfo=UTC
        )
    return bound, datetime.combine(day, time.min, tzinfo=UTC)


def _date(field: SegmentField, value: Any) -> tuple[Any, Q]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(
            'an object of bounds, e.g. {"gte": "2026-01-01", "lt": "2026-02-01"}, '
            'or {"isnull": true}'
        )
    unknown = sorted(set(value) - {*BOUNDS, "isnull"})
    if unknown:
        raise ValueError(f"unknown bound {', '.join(unknown)}; use gt, gte, lt, lte or isnull")
    condition, canonical = Q(), {}
    for bound, raw in value.items():
        if bound == "isnull":
            if not isinstance(raw, bool):
                raise ValueError("isnull: true or false")
            condition &= Q(**{f"{field.column}__isnull": raw})
        else:
            try:
                lookup, moment = _bound(raw, bound)
            except OverflowError:
                raise ValueError(f"{bound}: a date within range") from None
            condition &= Q(**{f"{field.column}__{lookup}": moment})
        canonical[bound] = raw
    return canonical, condition


def _decimal(field: SegmentField, value: Any) -> tuple[Any, Q]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError('an object of bounds, e.g. {"gte": "100", "lt": "500"}')
    unknown = sorted(set(value) - set(BOUNDS))
    if unknown:
        raise ValueError(f"unknown bound {', '.join(unknown)}; use gt, gte, lt or lte")
    condition, canonical = Q(), {}
    for bound, raw in value.items():
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise ValueError(f'{bound}: a number, e.g. "100.50"')
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError(f'{bound}: a number, e.g. "100.50"') from None
        if not number.is_finite() or abs(number) >= MAX_DECIMAL:
            raise ValueError(f"{bound}: a number below {MAX_DECIMAL:,.0f}")
        condition &= Q(**{f"{field.column}__{bound}": number})
        canonical[bound] = str(number)
    return canonical, condition


def _choice(field: SegmentField, value: Any) -> tuple[Any, Q]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ValueError("at least one value")
    if len(values) > MAX_VALUES:
        raise ValueError(f"at most {MAX_VALUES} values")
    chosen: list[str | None] = []
    for item in values:
        if item is not None and not isinstance(item, str):
            raise ValueError("a text value or a list of them")
        if item is not None and len(item) > MAX_VALUE_LENGTH:
            raise ValueError(f"values of at most {MAX_VALUE_LENGTH} characters")
        if field.choices is not None and item not in field.choices:
            raise ValueError(f"{item!r} is not one of {', '.join(field.choices)}")
        if item not in chosen:
            chosen.append(item)
    texts = [v for v in chosen if v is not None]
    condition = Q(**{f"{field.column}__in": texts}) if texts else Q(pk__in=[])
    if None in chosen:
        condition |= Q(**{f"{field.column}__isnull": True})
    return chosen, condition


def _bool(field: SegmentField, value: Any) -> tuple[Any, Q]:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value, Q(**{field.column: value})


_PARSERS: dict[str, Callable[[SegmentField, Any], tuple[Any, Q]]] = {
    "choice": _choice,
    "date": _date,
    "decimal": _decimal,
    "bool": _bool,
}


def _parse(filters: Any) -> _Parsed:
    if not isinstance(filters, Mapping):
        raise ValidationError("Filters are a JSON object: {field: condition}.")
    errors: dict[str, list[str]] = {}
    canonical: dict[str, Any] = {}
    conditions: dict[str, Q] = {}
    for name, value in filters.items():
        field = _fields.get(name)
        if field is None:
            known = ", ".join(f.name for f in all_fields())
            errors[str(name)] = [f"Not a segment field. The fields are: {known}."]
            continue
        try:
            canonical[name], conditions[name] = _PARSERS[field.type](field, value)
        except ValueError as exc:
            errors[name] = [f"Expected {exc}."]
    if errors:
        raise ValidationError(errors)
    used = tuple(_fields[name] for name in conditions)
    return _Parsed(filters=canonical, conditions=conditions, fields=used)


def validate_filters(filters: Any) -> dict[str, Any]:
    """The filters in canonical form (a choice as a list, decimals as strings), or
    ValidationError ``{field: [message]}`` naming every field that is unknown or mistyped."""
    return _parse(filters).filters


def _group_fields(group_by: Any) -> list[SegmentField]:
    if not isinstance(group_by, list | tuple):
        raise ValidationError({"group_by": ["A list of field names."]})
    fields, problems = [], []
    for name in group_by:
        field = _fields.get(name) if isinstance(name, str) else None
        groupable = ", ".join(f.name for f in all_fields() if f.groupable)
        if field is None or not field.groupable:
            problems.append(f"{name!r} can't be grouped by; these can: {groupable}.")
        elif field in fields:
            problems.append(f"{name!r} is named twice.")
        else:
            fields.append(field)
    if len(fields) > MAX_GROUP_BY:
        problems.append(f"At most {MAX_GROUP_BY} fields.")
    if problems:
        raise ValidationError({"group_by": problems})
    return fields


# --- querying ------------------------------------------------------------------------------------


def _queryset(parsed: _Parsed, *, select: Sequence[SegmentField] = ()) -> QuerySet:
    """Non-staff users matching ``parsed``; expressions that are only filtered on are added as
    aliases (computed in WHERE, never selected), those in ``select`` as annotations."""
    queryset = get_user_model()._default_manager.filter(is_staff=False)
    selected = {f.name for f in select}
    for field in {f.name: f for f in (*parsed.fields, *select)}.values():
        if field.expression is None:
            continue
        if field.name in selected:
            queryset = queryset.annotate(**{field.column: field.expression()})
        else:
            queryset = queryset.alias(**{field.column: field.expression()})
    condition = Q()
    for part in parsed.conditions.values():
        condition &= part
    return queryset.filter(condition)


def users(filters: Mapping[str, Any]) -> QuerySet:
    """The (non-staff) users the filters select. Raises ValidationError for bad filters."""
    return _queryset(_parse(filters))


def preview(filters: Mapping[str, Any], group_by: Sequence[str] = ()) -> tuple[list[dict], bool]:
    """``([{"values": {field: value}, "count": n}, ...], truncated)``, the largest groups first
    (at most GROUP_LIMIT; ``truncated`` when there were more), in one query. Without
    ``group_by``, one group with empty values. Counts only: never an address. Raises
    ValidationError for bad filters or group_by."""
    parsed = _parse(filters)
    fields = _group_fields(list(group_by))
    if not fields:
        return [{"values": {}, "count": _queryset(parsed).count()}], False
    columns = [f.column for f in fields]
    rows = list(
        _queryset(parsed, select=fields)
        .order_by()
        .values(*columns)
        .annotate(members=Count("pk"))
        .order_by("-members", *columns)[: GROUP_LIMIT + 1]
    )
    groups = [
        {
            "values": {f.name: _plain(f, row[f.column]) for f in fields},
            "count": row["members"],
        }
        for row in rows[:GROUP_LIMIT]
    ]
    return groups, len(rows) > GROUP_LIMIT


def _plain(field: SegmentField, value: Any) -> Any:
    if value is None:
        return None
    if field.type == "bool":
        return bool(value)
    if isinstance(value, date | datetime | Decimal):
        return str(value)
    return value
