"""Serializer fields every app's query strings share."""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter: absent means "no filter", not False as for HTML checkboxes."""

    default_empty_html = empty


class QuerySerializer(serializers.Serializer):
    """For query strings. DRF reads a blank ``?store=`` as "not given"; for a value with a type
    (a number, a yes/no, a choice) a blank is not a value at all, so it is refused, naming the
    parameter, rather than silently ignored. Free-text parameters may be blank."""

    def to_internal_value(self, data: Any) -> Any:
        blank = [
            name
            for name, field in self.fields.items()
            if hasattr(data, "get")
            and data.get(name) == ""
            and not (isinstance(field, serializers.CharField) and field.allow_blank)
            and not isinstance(field, serializers.CharField | serializers.SlugField)
        ]
        if blank:
            raise serializers.ValidationError({name: ["A value is required."] for name in blank})
        return super().to_internal_value(data)

    @classmethod
    def read(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """The query string's validated values; a 400 (``ValidationError``) if one is bad.

        A query string that names none of the parameters (most catalogue reads: a page, maybe a
        page size) has nothing to validate, and answers ``{}`` without building the serializer:
        DRF deep-copies every field for each instance, which cost a cold page of stores about
        a twentieth of its time."""
        declared = cls._declared_fields
        if not any(name in params for name in declared) and not any(
            field.required or field.default is not empty for field in declared.values()
        ):
            return {}
        query = cls(data=params)
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)
