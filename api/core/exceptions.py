"""The project's error type and the one handler that renders every error as
``{"code": ..., "message": ..., "details": {...}}``.

Services raise ``ApplicationError`` subclasses and never build responses, so Celery tasks,
admin actions and consumers reuse them. Anything the handler doesn't recognise is a bug: it is
logged with its traceback and answered with a bare 500 that reveals nothing.
"""

import logging
import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from core import dependencies

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business rule said no. Subclasses set ``code``, ``http_status`` and ``default_message``."""

    code: str = "error"
    http_status: int = status.HTTP_400_BAD_REQUEST
    default_message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        http_status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(self.message)


class Conflict(ApplicationError):
    code = "conflict"
    http_status = status.HTTP_409_CONFLICT
    default_message = "The request conflicts with the current state."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "This status change is not allowed."


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = "This Idempotency-Key was already used with a different request."


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    default_message = (
        "A request with this Idempotency-Key is still being processed; retry after it finishes."
    )


def error_payload(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict:
    return {"code": code, "message": message, "details": dict(details or {})}


def _from_drf(exc: drf.APIException) -> Response:
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    wait = getattr(exc, "wait", None) if isinstance(exc, drf.Throttled) else None
    if wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))

    code: str | None = None
    details: dict[str, Any] = {}
    detail = exc.detail
    if isinstance(exc, drf.ValidationError):
        code = "invalid"
        details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        message = "Invalid input."
    elif isinstance(detail, dict):
        # e.g. simplejwt's InvalidToken: {"detail": ..., "code": ..., "messages": [...]}
        message = str(detail.get("detail", exc.default_detail))
        code = code or str(detail.get("code") or exc.default_code)
        details = {k: v for k, v in detail.items() if k not in ("detail", "code")}
    elif isinstance(detail, list):
        message = " ".join(str(d) for d in detail)
    else:
        message = str(detail)
        code = code or getattr(detail, "code", None) or exc.default_code
    if wait is not None:
        details["retry_after"] = int(headers["Retry-After"])
    return Response(
        error_payload(code or exc.default_code, message, details),
        status=exc.status_code,
        headers=headers,
    )


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER. Always returns a response in the error shape."""
    if isinstance(exc, ApplicationError):
        return Response(error_payload(exc.code, exc.message, exc.details), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            error_payload("too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = drf.ParseError("The request was malformed.")
    if isinstance(exc, drf.APIException):
        return _from_drf(exc)
    dependency = dependencies.down_dependency(exc)
    if dependency is not None:
        request = context.get("request")
        dependencies.record_unavailable(dependency, path=getattr(request, "path", ""), exc=exc)
        return Response(
            dependencies.unavailable_payload(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(dependencies.RETRY_AFTER_SECONDS)},
        )

    view = context.get("view")
    logger.error(
        "unhandled error in %s",
        type(view).__name__ if view is not None else "unknown view",
        exc_info=exc,
    )
    return Response(
        error_payload("server_error", "Internal server error."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
