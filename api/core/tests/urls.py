"""Views that exist only for the core tests: each raises one kind of error, or uses one piece of
plumbing (pagination, idempotency) the way the domain apps will."""

import threading
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from rest_framework import permissions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from core.exceptions import Conflict
from core.idempotency import idempotent
from ops.models import WorkerCheck


class EchoInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False)


class ValidationApi(APIView):
    permission_classes = [permissions.AllowAny]

    def post(self, request: Request) -> Response:
        data = EchoInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


class ModelValidationApi(APIView):
    permission_classes = [permissions.AllowAny]

    def post(self, request: Request) -> Response:
        raise DjangoValidationError({"email": ["Enter a valid email address."]})


class ProtectedApi(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class StaffOnlyApi(APIView):
    permission_classes = [permissions.IsAdminUser]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class ConflictApi(APIView):
    permission_classes = [permissions.AllowAny]

    def post(self, request: Request) -> Response:
        raise Conflict("Only 2 left.", code="out_of_stock", details={"lines": [{"available": 2}]})


class BrokenApi(APIView):
    permission_classes = [permissions.AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internals: password=hunter2")


class TwoPerMinuteThrottle(SimpleRateThrottle):
    scope = "test"
    rate = "2/min"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ThrottledApi(APIView):
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TwoPerMinuteThrottle]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class UserEmailSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email"]


class UserListApi(ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = UserEmailSerializer
    queryset = User.objects.order_by("id")


# Set by a test to hold the idempotent view inside its work until released.
hold_idempotent_work: threading.Event | None = None
idempotent_work_started = threading.Event()


class IdempotentCreateApi(APIView):
    """Does real work (a row insert) so tests can count how often it ran."""

    @idempotent
    def post(self, request: Request) -> Response:
        data = EchoInput(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data.get("note") == "conflict":
            raise Conflict("No.")
        check = WorkerCheck.objects.create(requested_by=request.user)
        idempotent_work_started.set()
        if hold_idempotent_work is not None:
            hold_idempotent_work.wait(timeout=30)
        return Response(
            {"id": str(check.pk), "quantity": data.validated_data["quantity"]}, status=201
        )


test_patterns = [
    path("validation/", ValidationApi.as_view()),
    path("model-validation/", ModelValidationApi.as_view()),
    path("protected/", ProtectedApi.as_view()),
    path("staff-only/", StaffOnlyApi.as_view()),
    path("conflict/", ConflictApi.as_view()),
    path("broken/", BrokenApi.as_view()),
    path("throttled/", ThrottledApi.as_view()),
    path("users/", UserListApi.as_view()),
    path("idempotent/", IdempotentCreateApi.as_view()),
]

urlpatterns = [path("t/", include(test_patterns)), path("", include("api.urls"))]

handler404 = "core.apis.page_not_found"
handler500 = "core.apis.server_error"
