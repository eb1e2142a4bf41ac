"""The in-app notification centre and preferences: every signed-in person, their own rows only."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import paginate, request_user
from core.openapi import paginated
from notifications import centre

TAGS = ["notifications"]


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="e.g. `order_status`, `payment_succeeded`.")
    title = serializers.CharField()
    body = serializers.CharField(allow_blank=True)
    link = serializers.CharField(
        allow_blank=True, help_text="An app path to open, e.g. `/orders/17`; may be empty."
    )
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="The notification's scalar facts (ids, numbers, amounts)."
    )
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField(min_value=0)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        max_length=500,
    )
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError("Send `ids` or `all: true`.")
        return attrs


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    category = serializers.ChoiceField(
        choices=["security", "order", "payment", "chat", "account", "marketing"]
    )
    description = serializers.CharField(allow_blank=True)
    email = serializers.BooleanField()
    in_app = serializers.BooleanField()
    in_app_available = serializers.BooleanField(
        help_text="False for email-only kinds (a sign-in code never shows in the app)."
    )
    mandatory = serializers.BooleanField(help_text="Security, order and payment: always on.")


class PreferencesSerializer(serializers.Serializer):
    preferences = PreferenceSerializer(many=True)


class PreferenceChangeSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64)
    email = serializers.BooleanField(required=False)
    in_app = serializers.BooleanField(required=False)


class PreferencesChangeSerializer(serializers.Serializer):
    preferences = PreferenceChangeSerializer(many=True, max_length=100)  # type: ignore[call-arg]


class NotificationListApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Your in-app notifications, newest first",
        operation_id="notifications_list",
        responses={200: paginated(NotificationSerializer)},
    )
    def get(self, request: Request) -> Response:
        rows = centre.notifications_of(request_user(request).pk)
        return paginate(request, self, rows, NotificationSerializer)


class UnreadCountApi(APIView):
    @extend_schema(
        tags=TAGS, summary="How many of your notifications are unread",
        responses={200: UnreadCountSerializer},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response({"unread_count": centre.unread_count(request_user(request).pk)})


class MarkReadApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Mark notifications read (some ids, or all)",
        request=MarkReadSerializer,
        responses={200: UnreadCountSerializer},
    )
    def post(self, request: Request) -> Response:
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = None if body.validated_data["all"] else body.validated_data["ids"]
        unread = centre.mark_read(user_id=request_user(request).pk, ids=ids)
        return Response({"unread_count": unread})


class PreferencesApi(APIView):
    @extend_schema(
        tags=TAGS, summary="Your notification preferences, per kind and channel",
        responses={200: PreferencesSerializer},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response({"preferences": centre.preferences_of(request_user(request).pk)})

    @extend_schema(
        tags=TAGS,
        summary="Change your preferences (kinds not named keep theirs)",
        description="Turning off a mandatory kind (security, order, payment) → 400; nothing "
        "changes then.",
        request=PreferencesChangeSerializer,
        responses={200: PreferencesSerializer},
    )
    def put(self, request: Request) -> Response:
        body = PreferencesChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            answer = centre.set_preferences(
                user_id=request_user(request).pk, changes=body.validated_data["preferences"]
            )
        except centre.PreferenceError as exc:
            raise ValidationError({"preferences": exc.errors}) from None
        return Response({"preferences": answer})


urlpatterns = [
    path("", NotificationListApi.as_view(), name="notification-list"),
    path("unread-count/", UnreadCountApi.as_view(), name="notification-unread-count"),
    path("read/", MarkReadApi.as_view(), name="notification-read"),
    path("preferences/", PreferencesApi.as_view(), name="notification-preferences"),
]
