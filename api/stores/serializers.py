from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from core.openapi import OPTIONAL, SIGNED
from core.serializers import QueryBooleanField, QuerySerializer
from stores.models import Store


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?\d{0,3}(?:\.\d{0,6})?$",
        "example": "15.500700",
        SIGNED: True,
    }
)
class CoordinateField(serializers.DecimalField):
    """Degrees with six decimal places (the columns' scale): negative south of the equator
    and west of Greenwich."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=9, decimal_places=6, **kwargs)


class StoreSerializer(serializers.ModelSerializer):
    latitude = CoordinateField(read_only=True, allow_null=True)
    longitude = CoordinateField(read_only=True, allow_null=True)
    contact_phone = PhoneNumberField(read_only=True)
    distance_km = serializers.SerializerMethodField()

    class Meta:
        model = Store
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "address",
            "latitude",
            "longitude",
            "contact_phone",
            "is_active",
            "created_at",
            "distance_km",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "number",
            "format": "double",
            "readOnly": True,
            "description": "Kilometres from `near`; only in lists asked with `?near=`.",
            OPTIONAL: True,
        }
    )
    def get_distance_km(self, store: Store) -> float | None:
        distance = getattr(store, "distance_km", None)
        return round(distance, 3) if distance is not None else None

    def to_representation(self, instance: Store) -> dict:
        data = super().to_representation(instance)
        if getattr(instance, "distance_km", None) is None:
            data.pop("distance_km")  # only with ?near=
        return data


def shown_stores(rows: list[Any]) -> list[dict[str, Any]]:
    """``StoreSerializer``'s output from rows of ``selectors.SHOWN``'s values (with the distance
    after them from a ``near`` list), without model instances or a walk over the serializer's
    fields for each store: about a fifth of the CPU. ``stores/tests`` holds the two to the same
    output, on SQLite and MariaDB.

    The coordinates come with their six decimal places (the column's scale), written out as
    DRF's ``DecimalField`` does; the creation time in the current time zone, looked up once
    for the page rather than once for each value, ISO 8601 with UTC as ``Z`` as DRF writes it."""
    zone = timezone.get_current_timezone()
    shown = []
    for pk, name, slug, description, address, lat, lng, phone, active, created, *rest in rows:
        moment = created.astimezone(zone).isoformat()
        store = {
            "id": pk,
            "name": name,
            "slug": slug,
            "description": description,
            "address": address,
            "latitude": None if lat is None else format(lat, "f"),
            "longitude": None if lng is None else format(lng, "f"),
            "contact_phone": phone,
            "is_active": active,
            "created_at": moment[:-6] + "Z" if moment.endswith("+00:00") else moment,
        }
        if rest:
            store["distance_km"] = round(rest[0], 3)
        shown.append(store)
    return shown


class StoreInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    latitude = CoordinateField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = CoordinateField(min_value=-180, max_value=180, required=False, allow_null=True)
    contact_phone = PhoneNumberField(required=False, allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        # On create both or neither; on PATCH the service checks against the stored values.
        if not self.partial and (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError("Give both latitude and longitude, or neither.")
        return attrs


class StoreListQuerySerializer(QuerySerializer):
    mine = QueryBooleanField(
        required=False, help_text="`true`: only your own stores (signed in), active or not."
    )
    near = serializers.RegexField(
        r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$",
        required=False,
        help_text="`<lat>,<lng>`: order by distance from this point.",
    )
    radius_km = serializers.FloatField(min_value=0, max_value=20000, required=False)

    def validate_near(self, value: str) -> tuple[float, float]:
        lat, lng = (float(part) for part in value.split(","))
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise serializers.ValidationError("Latitude must be within ±90, longitude ±180.")
        return lat, lng

    def validate(self, attrs: dict) -> dict:
        if "radius_km" in attrs and "near" not in attrs:
            raise serializers.ValidationError({"radius_km": ["Needs `near`."]})
        return attrs
