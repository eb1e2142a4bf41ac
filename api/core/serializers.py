"""Serializer fields every app's query strings share."""

from rest_framework import serializers
from rest_framework.fields import empty


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter: absent means "no filter", not False as for HTML checkboxes."""

    default_empty_html = empty
