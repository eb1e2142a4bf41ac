"""Django-level error views (URLs no view matched, errors outside DRF), in the API's error shape."""

from django.http import HttpRequest, JsonResponse

from core.exceptions import error_payload


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
