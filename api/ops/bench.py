"""The bare-framework ceiling the catalogue is measured against (``bench/ceiling.py``): a DRF view
answering 20 products of the list's own shape, computed once, with nothing else to do. Mounted
only when ``BENCH_CEILING`` is on (``api/urls.py``); never in a deployment.

* ``/bench/ceiling/`` — no authentication, permission or throttle: the stack's floor cost
  (server, middleware, DRF, JSON rendering);
* ``/bench/ceiling-framework/`` — the same with the project's default authentication and
  throttle classes, as every API view has them.
"""

from typing import Any

from django.test import RequestFactory
from django.urls import path, resolve
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

_payload: dict[str, Any] | None = None


def payload() -> dict[str, Any]:
    """Page one of ``GET /api/products/?page_size=20``, as an anonymous shopper gets it."""
    global _payload
    if _payload is None:
        request = RequestFactory().get("/api/products/", {"page_size": 20})
        response = resolve("/api/products/").func(request)
        response.render()
        import json

        _payload = json.loads(response.content)
    return _payload


class CeilingApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        return Response(payload())


class FrameworkCeilingApi(APIView):
    permission_classes = [AllowAny]  # the default authentication and throttle classes stay

    def get(self, request: Request) -> Response:
        return Response(payload())


urlpatterns = [
    path("ceiling/", CeilingApi.as_view(), name="bench-ceiling"),
    path("ceiling-framework/", FrameworkCeilingApi.as_view(), name="bench-ceiling-framework"),
]
