"""Serializer fields every app's query strings share."""

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
