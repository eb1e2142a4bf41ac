"""``POST /api/notifications/esp/<provider>/tracking/``: the email providers' signed delivery,
bounce and complaint webhooks (docs: "Provider webhooks").

Each path is django-anymail's own tracking view for that provider — it verifies the call and
turns the provider's payload into events on anymail's ``tracking`` signal, which
``notifications.tracking`` records — behind one guard that keeps the API's rules:

* **verification.** Mailgun: HMAC-SHA256 of timestamp + token with
  ``MAILGUN_WEBHOOK_SIGNING_KEY``. Resend: the Svix signature (``svix-id``, ``svix-timestamp``,
  ``svix-signature``) with ``RESEND_SIGNING_SECRET``, checked here by the scheme's definition
  (anymail would need the ``svix`` package). Postmark: HTTP basic auth, the
  ``ANYMAIL_WEBHOOK_SECRET`` ``user:password`` put in the URL given to Postmark; when set it is
  required of every provider, on top of its signature;
* **a provider that can't be verified is refused** — 400 ``invalid_signature``, nothing stored —
  rather than open to anyone, as anymail leaves a basic-auth provider without a secret. Only with
  ``DEBUG`` on are such calls let in (with anymail's ``AnymailInsecureWebhookWarning``), so a
  developer can post sample payloads; Mailgun can't run without its key, DEBUG or not.
  ``check --deploy`` warns when mail goes through a provider whose calls would be refused;
* **answers**: 200 with an empty body, what providers expect; errors in the API's shape in every
  mode (anymail's own would be Django's HTML debug page with DEBUG on): 400 ``invalid_signature``,
  400 ``invalid`` for a body anymail can't read, 405, 413, 404 ``not_found`` for a provider not
  received here. No CSRF (anymail's views are exempt; so is the guard), no session, no
  throttle: a provider retries what isn't 2xx.

Each is mounted through a thin DRF view (no authentication, permission or throttle) so the
OpenAPI document lists it, as it lists the payment providers' webhooks.
"""

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.utils import get_anymail_setting
from anymail.webhooks.base import AnymailBaseWebhookView, AnymailCoreWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from core.exceptions import error_payload
from core.openapi import RAW_WEBHOOK, error_responses
from notifications import tracking

logger = logging.getLogger(__name__)

SVIX_TOLERANCE_SECONDS = 5 * 60  # Svix's own: a captured call can't be replayed later


class UnreadableEvent(Exception):
    """The call was verified, but its body is not the provider's tracking event."""


class _ReadsOrRefuses(AnymailCoreWebhookView):
    """Anymail's parsing, with a body it can't read answered 400 instead of a 500."""

    def parse_events(self, request: HttpRequest) -> list[Any]:
        try:
            return list(super().parse_events(request))
        except AnymailConfigurationError as exc:  # e.g. an inbound-mail hook posted here
            raise UnreadableEvent(str(exc)) from exc
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise UnreadableEvent(f"The body is not a {self.esp_name} tracking event.") from exc


class MailgunTrackingView(_ReadsOrRefuses, MailgunTrackingWebhookView):
    pass


class PostmarkTrackingView(_ReadsOrRefuses, PostmarkTrackingWebhookView):
    pass


def svix_signature_ok(key: bytes, body: bytes, headers: Mapping[str, str], *, now: float) -> bool:
    """Svix / Standard Webhooks: base64 HMAC-SHA256 of ``"<id>.<timestamp>.<body>"``, one of the
    space-separated ``v1,<signature>`` entries, the timestamp within five minutes of now."""
    msg_id = headers.get("svix-id") or headers.get("webhook-id") or ""
    stamp = headers.get("svix-timestamp") or headers.get("webhook-timestamp") or ""
    signatures = headers.get("svix-signature") or headers.get("webhook-signature") or ""
    try:
        sent_at = int(stamp)
    except ValueError:
        return False
    if not msg_id or abs(now - sent_at) > SVIX_TOLERANCE_SECONDS:
        return False
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    return any(
        version == "v1" and hmac.compare_digest(signature.encode(), expected)
        for version, _, signature in (entry.partition(",") for entry in signatures.split())
    )


class ResendTrackingView(_ReadsOrRefuses, ResendTrackingWebhookView):
    """Anymail's Resend view, its Svix signature checked by ``svix_signature_ok``."""

    signing_key: bytes | None = None

    def __init__(self, **kwargs: Any) -> None:
        secret = get_anymail_setting(
            "signing_secret", esp_name=self.esp_name, default=None, kwargs=kwargs
        )
        try:
            self.signing_key = tracking.svix_key(secret) if secret else None
        except ValueError as exc:  # also notifications.E001 at startup
            raise AnymailConfigurationError("RESEND_SIGNING_SECRET is not whsec_<base64>") from exc
        self._svix_webhook = None  # the svix mixin's check, which needs the package, stays off
        self.warn_if_no_basic_auth = self.signing_key is None
        # Past the svix mixin's __init__ (it loads svix); basic auth still applies when set.
        AnymailBaseWebhookView.__init__(self, **kwargs)

    def validate_request(self, request: HttpRequest) -> None:
        if self.signing_key is None:
            return
        if not svix_signature_ok(self.signing_key, request.body, request.headers, now=time.time()):
            raise AnymailWebhookValidationFailure("Resend webhook called with incorrect signature")


VIEWS: dict[str, type[AnymailCoreWebhookView]] = {
    "mailgun": MailgunTrackingView,
    "resend": ResendTrackingView,
    "postmark": PostmarkTrackingView,
}


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_payload(code, message), status=status)


def _endpoint(name: str, view_class: type[AnymailCoreWebhookView]) -> Callable[..., HttpResponse]:
    view = view_class.as_view()
    methods = sorted(method.upper() for method in view_class.http_method_names)

    @csrf_exempt
    @login_not_required
    def endpoint(request: HttpRequest) -> HttpResponse:
        if request.method not in methods:
            response = _error(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
            response["Allow"] = ", ".join(methods)
            return response
        status = tracking.webhook_status(name)
        if status != "verified" and not (settings.DEBUG and status == "unverified"):
            setting = tracking.PROVIDERS[name].configure
            logger.warning(
                "%s tracking webhook refused: nothing verifies it (set %s)", name, setting
            )
            hint = f" Set {setting}." if settings.DEBUG else ""
            return _error(400, "invalid_signature", f"This webhook can't be verified.{hint}")
        try:
            return view(request)
        except AnymailWebhookValidationFailure:
            logger.warning("%s tracking webhook refused: bad signature or credentials", name)
            return _error(
                400, "invalid_signature", "The webhook's signature could not be verified."
            )
        except UnreadableEvent as exc:
            return _error(400, "invalid", str(exc))
        except RequestDataTooBig:
            return _error(413, "too_large", "The request body is too large.")

    endpoint.__name__ = endpoint.__qualname__ = f"{name}_tracking_webhook"
    return endpoint


@csrf_exempt
@login_not_required
def unknown_provider(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider not received here: the API's 404 — not a CSRF 403, which is what the
    ``/api/`` catch-all would answer a provider's cookieless POST."""
    return _error(404, "not_found", "Not found.")


DESCRIPTIONS = {
    "mailgun": "Mailgun's tracking webhook (JSON `{signature: {timestamp, token, signature}, "
    "event-data}`): HMAC-SHA256 of timestamp + token with `MAILGUN_WEBHOOK_SIGNING_KEY`.",
    "resend": "Resend's webhook, signed the Svix way (`svix-id`, `svix-timestamp`, "
    "`svix-signature`, at most 5 minutes old) with `RESEND_SIGNING_SECRET`.",
    "postmark": "Postmark's delivery, bounce and spam-complaint webhooks, with the "
    "`ANYMAIL_WEBHOOK_SECRET` basic-auth credentials in the URL given to Postmark.",
}


class _TrackingApi(APIView):
    """The guarded anymail view, as a DRF view: providers call it with no user and no session,
    are never throttled (they retry what isn't 2xx), and their raw body is read as sent."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    endpoint: Callable[[HttpRequest], HttpResponse]

    def post(self, request: Request) -> HttpResponse:
        return type(self).endpoint(request._request)


def _api(name: str, view_class: type[AnymailCoreWebhookView]) -> Any:
    view = type(f"{name.capitalize()}TrackingApi", (_TrackingApi,),
                {"endpoint": staticmethod(_endpoint(name, view_class))})  # fmt: skip
    schema = extend_schema(
        tags=["email-providers"],
        summary=f"{name.capitalize()}: delivery, bounce and complaint events",
        description=DESCRIPTIONS[name] + " Each event is stored once (a replay changes nothing); "
        "a hard bounce or a complaint stops marketing email to the address. A call that "
        "can't be verified → 400 `invalid_signature`, nothing stored.",
        operation_id=f"notifications_esp_{name}_tracking",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: OpenApiResponse(description="Received (an empty body)."),
                   **error_responses((400, "invalid_signature"), (400, "invalid"))},
        auth=[],
        extensions={RAW_WEBHOOK: True},
    )  # fmt: skip
    documented: type[APIView] = extend_schema_view(post=schema)(view)
    return documented.as_view()


urlpatterns: list[URLPattern | URLResolver] = [
    *(
        path(f"{name}/tracking/", _api(name, view_class), name=f"esp-tracking-{name}")
        for name, view_class in VIEWS.items()
    ),
    path("<str:provider>/tracking/", unknown_provider),
]
