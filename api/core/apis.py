"""What every app's views share: the caller, a page of results, and the Django-level error views
(URLs no view matched, errors outside DRF) in the API's error shape."""

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from core import dependencies
from core.exceptions import error_payload
from core.pagination import PageNumberPagination

if TYPE_CHECKING:  # the user model is accounts'; core only names it for the type checker
    from accounts.models import User


def request_user(request: Request) -> "User":
    """The signed-in caller, on a view whose permission classes require one."""
    assert request.user.is_authenticated, "a view without IsAuthenticated asked for the user"
    return request.user


def optional_user(request: Request) -> "User | None":
    """The signed-in caller, or None on a public view called anonymously."""
    return request.user if request.user.is_authenticated else None


def paginate(
    request: Request,
    view: APIView,
    queryset: QuerySet | list,
    serializer_class: type[BaseSerializer],
    *,
    context: dict[str, Any] | None = None,
    prepare: Callable[[list], list] | None = None,
) -> Response:
    """One page of ``queryset`` as ``{count, next, previous, results}`` (API.md's lists).
    ``prepare`` takes the page's objects and gives back what to serialize (with what the page
    needs loaded for all of them at once)."""
    paginator = PageNumberPagination()
    page: Any = paginator.paginate_queryset(queryset, request, view=view)
    if prepare is not None:
        page = prepare(list(page or []))
    context = {"request": request} if context is None else context
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context).data)


class _Fetched(Sequence):
    """A page fetched ahead (by a search engine, with its total) that Django's paginator
    validates and slices as if it held every row."""

    def __init__(self, items: list, count: int, offset: int) -> None:
        self.items, self.total, self.offset = items, count, offset

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self.items[(index.start or 0) - self.offset : (index.stop or 0) - self.offset]
        return self.items[index - self.offset]


def paginate_fetched(
    request: Request,
    view: APIView,
    fetch: Callable[[int, int], tuple[list, int]],
    serializer_class: type[BaseSerializer] | None,
) -> Response:
    """As ``paginate``, for results that come a page at a time with their total:
    ``fetch(offset, limit) -> (items, count)``. Without a serializer the items are already
    the answer's dicts (a read model's)."""
    paginator = PageNumberPagination()
    size = paginator.get_page_size(request)
    number = paginator.get_page_number(request, None)
    if not isinstance(number, int):  # "last": the total first
        _, total = fetch(0, 0)
        number = max(1, -(-total // size))
    offset = (number - 1) * size
    items, count = fetch(offset, size)
    page: Any = paginator.paginate_queryset(_Fetched(items, count, offset), request, view=view)
    if serializer_class is None:
        return paginator.get_paginated_response(list(page))
    context = {"request": request}
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context).data)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_payload("bad_request", "Bad request."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        error_payload("permission_denied", "You do not have permission to do this."), status=403
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_payload("not_found", "Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """Django's handler500, called while the exception is being handled: a dependency that is
    down (the admin's or a page's database, say) is a 503 here too."""
    exc = sys.exception()
    dependency = dependencies.down_dependency(exc)
    if dependency is not None and exc is not None:
        dependencies.record_unavailable(dependency, path=request.path, exc=exc)
        response = JsonResponse(dependencies.unavailable_payload(), status=503)
        response["Retry-After"] = str(dependencies.RETRY_AFTER_SECONDS)
        return response
    return JsonResponse(error_payload("server_error", "Internal server error."), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return JsonResponse(
        error_payload("permission_denied", "CSRF verification failed.", {"reason": reason}),
        status=403,
    )


@csrf_exempt  # nothing here changes anything: a cookie-less POST gets the 404, not a CSRF 403
def api_path_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """The last route under ``/api/``: a path that only misses its trailing slash answers 308 to
    the slashed path (clients keep the method and body; Django's own APPEND_SLASH would answer
    301, which turns a POST into a GET, or fail with DEBUG on); anything else is the API's 404
    in its error shape, ``DEBUG`` or not (Django's debug page is HTML)."""
    if not request.path.endswith("/"):
        slashed = f"{request.path}/"
        match = _resolve_or_none(slashed, getattr(request, "urlconf", None))
        if match is not None and match.func is not api_path_not_found:
            query = request.META.get("QUERY_STRING", "")
            target = slashed + (f"?{query}" if query else "")
            return HttpResponsePermanentRedirect(target, preserve_request=True)  # 308
    return page_not_found(request)


def _resolve_or_none(path: str, urlconf: Any) -> Any:
    try:
        return resolve(path, urlconf)
    except Resolver404:
        return None
