import functools
import math
from typing import Any

from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.functions import ASin, Cast, Cos, Power, Radians, Sin, Sqrt
from django.shortcuts import get_object_or_404

from core import rows
from stores.models import Store

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LATITUDE = 111.045

# What a store shows (``StoreSerializer``'s fields but ``distance_km``, in its order): the
# columns a page of stores is read as.
SHOWN = ("id", "name", "slug", "description", "address", "latitude", "longitude",
         "contact_phone", "is_active", "created_at")  # fmt: skip
_PHONE = SHOWN.index("contact_phone")


def store_open(path: str = "") -> Q:
    """The one rule of an open store, whose products are on sale: active, not deleted. ``path``
    leads to the store from another model (``"store__"`` from a product)."""
    return Q(**{f"{path}is_active": True, f"{path}deleted_at__isnull": True})


def store_open_sql(alias: str = "") -> tuple[str, list[Any]]:
    """``store_open`` for a hand-written statement, and its parameters: ``alias`` is the store
    table's name or alias there ('' when it is the only table)."""
    q = connection.ops.quote_name
    prefix = f"{alias}." if alias else ""
    return f"{prefix}{q('is_active')} = %s AND {prefix}{q('deleted_at')} IS NULL", [True]


def _public() -> QuerySet[Store]:
    return Store.objects.filter(store_open())


def list_stores(
    *,
    near: tuple[float, float] | None = None,
    radius_km: float | None = None,
    owner: Any = None,
) -> QuerySet[Store]:
    """Active stores by name; with ``near``, by great-circle distance (``distance_km``),
    within ``radius_km`` when given. With ``owner``, that user's own stores instead, whether
    active or not (never deleted ones).

    The distance is computed in SQL (haversine) on SQLite and MySQL alike. A radius first narrows
    the rows with a bounding box on the indexed coordinates, then filters on exact distance.
    """
    stores = (
        Store.objects.filter(owner=owner, deleted_at__isnull=True)
        if owner is not None
        else _public()
    )
    if near is None:
        return stores.order_by("name", "id")
    lat, lng = near
    stores = stores.filter(latitude__isnull=False, longitude__isnull=False)
    if radius_km is not None:
        dlat = radius_km / KM_PER_DEGREE_LATITUDE
        stores = stores.filter(latitude__gte=lat - dlat, latitude__lte=lat + dlat)
        cos_lat = math.cos(math.radians(lat))
        if cos_lat > 0.01:  # near the poles every longitude is close: no longitude box
            dlng = radius_km / (KM_PER_DEGREE_LATITUDE * cos_lat)
            if lng - dlng >= -180 and lng + dlng <= 180:  # no box across the antimeridian
                stores = stores.filter(longitude__gte=lng - dlng, longitude__lte=lng + dlng)
    store_lat = Radians(Cast("latitude", FloatField()))
    store_lng = Radians(Cast("longitude", FloatField()))
    here_lat = Radians(Value(lat, output_field=FloatField()))
    here_lng = Radians(Value(lng, output_field=FloatField()))
    half_chord = Power(Sin((store_lat - here_lat) / 2), 2) + Cos(here_lat) * Cos(store_lat) * Power(
        Sin((store_lng - here_lng) / 2), 2
    )
    stores = stores.annotate(
        distance_km=Value(2 * EARTH_RADIUS_KM, output_field=FloatField()) * ASin(Sqrt(half_chord))
    )
    if radius_km is not None:
        stores = stores.filter(distance_km__lte=radius_km)
    return stores.order_by(F("distance_km").asc(), "id")


def store_page(
    *,
    offset: int,
    limit: int,
    near: tuple[float, float] | None = None,
    radius_km: float | None = None,
    owner: Any = None,
) -> tuple[list[Any], int]:
    """A page of ``list_stores`` (same arguments) as rows of ``SHOWN``'s values, with
    ``distance_km`` after them when ``near`` is given, and how many stores there are in all.
    Values are as the ORM gives them, but ``contact_phone``: the text stored, E.164, which is
    how the API shows it too (``PHONENUMBER_DB_FORMAT`` and ``PHONENUMBER_DEFAULT_FORMAT``);
    parsing each number back cost more than the rest of the page.

    The plain lists (by name: everyone's, an owner's) are one written-out statement; ``near``
    goes through the queryset, which works its distance out."""
    if near is not None:
        stores = list_stores(near=near, radius_km=radius_km, owner=owner)
        total = stores.count()
        found = stores.values_list(*SHOWN, "distance_km")[offset : offset + limit] if limit else []
        shown = [list(row) for row in found]
        for row in shown:
            row[_PHONE] = str(row[_PHONE]) if row[_PHONE] else ""  # the ORM's PhoneNumber
        return shown, total
    q = connection.ops.quote_name
    if owner is not None:
        where, params = f"{q('owner_id')} = %s AND {q('deleted_at')} IS NULL", [owner.pk]
    else:
        where, params = store_open_sql()
    found, total = rows.page(
        columns=", ".join(q(column) for column in SHOWN),
        source=f"{q(Store._meta.db_table)} WHERE {where}",
        order=f"{q('name')}, {q('id')}",
        params=params,
        offset=offset,
        limit=limit,
    )
    return rows.convert(found, _conversions()), total


@functools.cache
def _conversions() -> dict[int, rows.Converter]:
    kept = rows.converters(Store, SHOWN)
    kept.pop(_PHONE, None)  # shown as stored
    return kept


def get_public_store(*, store_id: int) -> Store:
    return get_object_or_404(_public(), pk=store_id)


def find_public_store(*, store_id: int) -> Store | None:
    return _public().filter(pk=store_id).first()
