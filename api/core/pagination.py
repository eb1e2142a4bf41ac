from typing import Any

from rest_framework import exceptions, pagination
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=``, ``?page_size=`` (max 100) → ``{"count", "next", "previous", "results"}``."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request: Request, paginator: Any) -> int | str:
        """A malformed ``page`` is a 400; a page past the end stays DRF's 404."""
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:  # ?page=last
            return paginator.num_pages if paginator is not None else raw
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9) or int(raw) < 1:
            raise exceptions.ValidationError({"page": ["Must be a positive integer."]})
        return int(raw)

    def get_page_size(self, request: Request) -> int:
        """A malformed ``page_size`` is a 400, not silently the default; above 100 is capped."""
        raw = request.query_params.get(self.page_size_query_param or "page_size")
        if raw is None:
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
        if size < 1:
            raise exceptions.ValidationError({"page_size": ["Must be a positive integer."]})
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in ("page", "page_size"):
                parameter["schema"]["minimum"] = 1
        return parameters
