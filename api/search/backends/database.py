from collections.abc import Sequence
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from search.backends.base import SearchBackend


class DatabaseSearchBackend(SearchBackend):
    """Case-insensitive substring match in any of the fields: the behaviour ``?search=`` had
    before search became a port. No index, no ranking, no typo tolerance."""

    name = "database"

    def filter(self, queryset: QuerySet, *, query: str, fields: Sequence[str]) -> QuerySet:
        if not query or not fields:
            return queryset
        return queryset.filter(
            reduce(or_, (Q(**{f"{field}__icontains": query}) for field in fields))
        )
