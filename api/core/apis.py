"""What every app's views share: the caller, a page of results, and the Django-level error views
(URLs no view matched, errors outside DRF) in the API's error shape."""

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

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
) -> Response:
    """One page of ``queryset`` as ``{count, next, previous, results}`` (API.md's lists)."""
    paginator = PageNumberPagination()
    page: Any = paginator.paginate_queryset(queryset, request, view=view)
    context = {"request": request} if context is None else context
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
    return JsonResponse(error_payload("server_error", "Internal server error."), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return JsonResponse(
        error_payload("permission_denied", "CSRF verification failed.", {"reason": reason}),
        status=403,
    )
