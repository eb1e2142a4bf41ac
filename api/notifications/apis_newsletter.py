"""``/api/newsletter/``: subscribe (double opt-in), confirm, and RFC 8058 one-click unsubscribe.

All three are public. Subscribing answers 202 with the same body whatever the address's state,
so it can't be used to learn who subscribes; it is throttled per client IP (``newsletter``) and
per address (``newsletter_email``), since each accepted call may email that address. Confirming
and unsubscribing are authorised by their signed token alone: no authentication runs (a stale
``Authorization`` header can't get in the way, and a mail client's one-click POST carries no
cookie, credentials or CSRF token, RFC 8058 §3.1).
"""

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from core.apis import optional_user
from core.openapi import error_responses
from core.parsers import JSONParser
from core.throttles import IpScopedRateThrottle, digest
from notifications import newsletter
from notifications.models import Language

TAGS = ["newsletter"]
ACCEPTED = {
    "detail": "If this address can be subscribed, a confirmation link has been sent to it. "
    "Follow it to start receiving the newsletter."
}
TOKEN_MAX_LENGTH = 1024
TOKEN_ERRORS = error_responses((400, "invalid_token"), (400, "token_expired"), (400, "invalid"))


# --- throttles -----------------------------------------------------------------------------------


class _LiveRate:
    """Reads the scope's rate when asked, not when the class was imported, so a changed
    setting (tests' ``settings.REST_FRAMEWORK``) takes effect."""

    scope: str | None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate else None


class NewsletterIpThrottle(_LiveRate, IpScopedRateThrottle):
    """``newsletter``: sign-ups per client IP (the view's ``throttle_scope``)."""


class NewsletterAddressThrottle(_LiveRate, SimpleRateThrottle):
    """``newsletter_email``: sign-ups per address — confirmation emails it may receive —
    whoever asks: the body's ``email``, else the signed-in caller's own address."""

    scope = "newsletter_email"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data if hasattr(request.data, "get") else {}
        email = data.get("email")
        if not email and request.user.is_authenticated:
            email = request.user.email
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": digest(email.strip().lower())}


# --- serializers ---------------------------------------------------------------------------------


class NewsletterSubscribeSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254,
        required=False,
        help_text="Required unless signed in; a signed-in caller without it subscribes their "
        "account's address.",
    )
    language = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        help_text="The newsletter's language; default: the signed-in caller's, else Arabic.",
    )


class NewsletterAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()


class NewsletterTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=TOKEN_MAX_LENGTH, help_text="The signed token from the emailed link."
    )


class NewsletterSubscribedSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="Always `subscribed`.")


class NewsletterUnsubscribedSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="Always `unsubscribed`.")


class NewsletterUnsubscribePreviewSerializer(serializers.Serializer):
    address = serializers.CharField(help_text="The address, masked: `a***@example.com`.")
    status = serializers.CharField(
        help_text="Its state now: `pending`, `subscribed`, `unsubscribed`, or `not_subscribed` "
        "(no newsletter record; unsubscribing records the opt-out)."
    )
    action = serializers.CharField(
        help_text="What POSTing to this URL does: `unsubscribe`, or `none` (already unsubscribed)."
    )


# RFC 8058 §3.1: the mail client POSTs exactly this, form-encoded. Not required: an app's own
# "unsubscribe" button may POST nothing.
OneClickSerializer = inline_serializer(
    name="NewsletterOneClick",
    fields={
        "List-Unsubscribe": serializers.CharField(
            max_length=32, required=False, help_text="`One-Click` (RFC 8058)."
        )
    },
)


def _token(request: Request) -> str:
    data = NewsletterTokenSerializer(data=request.query_params)
    data.is_valid(raise_exception=True)
    return data.validated_data["token"]


# --- views ---------------------------------------------------------------------------------------


class NewsletterSubscribeApi(APIView):
    permission_classes = [permissions.AllowAny]
    throttle_classes = [NewsletterIpThrottle, NewsletterAddressThrottle]
    throttle_scope = "newsletter"

    @extend_schema(
        tags=TAGS,
        summary="Subscribe an address to the newsletter (a confirmation link is emailed)",
        description="Double opt-in: the address is subscribed only once its owner follows the "
        "emailed link (valid 7 days). The answer is 202 with the same body whether the address "
        "is new, pending, subscribed or unsubscribed. Throttled per client IP and per address.",
        request=NewsletterSubscribeSerializer,
        responses={
            202: OpenApiResponse(
                NewsletterAcceptedSerializer, description="Always, whatever the address's state."
            ),
            **error_responses((401, "authentication_failed"), (403, "permission_denied")),
        },
    )
    def post(self, request: Request) -> Response:
        data = NewsletterSubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = optional_user(request)
        email = data.validated_data.get("email") or (user.email if user else "")
        if not email:
            raise serializers.ValidationError({"email": ["This field is required."]})
        own = user is not None and user.email.lower() == email.strip().lower()
        newsletter.subscribe(
            address=email,
            user_id=user.pk if own and user else None,
            language=data.validated_data.get("language") or (user.language if user else "ar"),
        )
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)


class _TokenApi(APIView):
    """Authorised by the signed token in the query: no authentication, so no CSRF check."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]


class NewsletterConfirmApi(_TokenApi):
    @extend_schema(
        tags=TAGS,
        summary="Confirm a subscription with the emailed link's token",
        description="Idempotent: confirming again answers the same. A token older than 7 days "
        "is `token_expired`; one from before the address last unsubscribed, or altered, is "
        "`invalid_token`.",
        parameters=[NewsletterTokenSerializer],
        responses={200: NewsletterSubscribedSerializer, **TOKEN_ERRORS},
    )
    def get(self, request: Request) -> Response:
        subscriber = newsletter.confirm(_token(request))
        return Response({"status": subscriber.status})


class NewsletterUnsubscribeApi(_TokenApi):
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    def get_throttles(self) -> list[BaseThrottle]:
        # Mail providers send every recipient's one-click POST from a few addresses of their
        # own; a per-IP limit would drop unsubscribes after a large campaign. The token is
        # signed, so there is nothing to guess.
        return [] if self.request.method == "POST" else super().get_throttles()

    @extend_schema(
        tags=TAGS,
        summary="Show what the unsubscribe link will do (changes nothing)",
        description="For the page a person sees before confirming: the masked address, its "
        "state and what a POST to the same URL would do. Read only, so a link scanner that "
        "follows it unsubscribes nobody.",
        parameters=[NewsletterTokenSerializer],
        responses={200: NewsletterUnsubscribePreviewSerializer, **TOKEN_ERRORS},
    )
    def get(self, request: Request) -> Response:
        preview = newsletter.describe_unsubscribe(_token(request))
        body = {"address": preview.address, "status": preview.status, "action": preview.action}
        return Response(body)

    @extend_schema(
        tags=TAGS,
        summary="Unsubscribe (RFC 8058 one-click)",
        description="The URL of a marketing email's `List-Unsubscribe` header. Mail clients POST "
        "`List-Unsubscribe=One-Click` form-encoded, without credentials; the body is not "
        "required. Idempotent; not throttled.",
        parameters=[NewsletterTokenSerializer],
        request=OneClickSerializer,
        responses={
            200: NewsletterUnsubscribedSerializer,
            **error_responses((400, "invalid_token"), (400, "invalid")),
        },
    )
    def post(self, request: Request) -> Response:
        subscriber = newsletter.unsubscribe(_token(request))
        return Response({"status": subscriber.status})


urlpatterns = [
    path("subscribe/", NewsletterSubscribeApi.as_view(), name="newsletter-subscribe"),
    path("confirm/", NewsletterConfirmApi.as_view(), name="newsletter-confirm"),
    path("unsubscribe/", NewsletterUnsubscribeApi.as_view(), name="newsletter-unsubscribe"),
]
