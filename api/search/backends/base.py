from abc import ABC, abstractmethod
from collections.abc import Sequence

from django.db.models import QuerySet


class SearchBackend(ABC):
    """What the domain apps ask of search. ``filter`` narrows a queryset the caller built (with
    its own visibility rules) to the rows matching ``query`` in ``fields``; the caller keeps its
    own ordering. The search issue adds ranking, typo tolerance, facets and suggestions."""

    name: str

    @abstractmethod
    def filter(self, queryset: QuerySet, *, query: str, fields: Sequence[str]) -> QuerySet: ...
