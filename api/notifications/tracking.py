"""Email providers' delivery, bounce and complaint reports (docs: "Provider webhooks").

django-anymail's webhook views (``notifications.apis_tracking``) verify a provider's call and
normalise each event it carries to an ``AnymailTrackingEvent``; this module receives them on
anymail's ``tracking`` signal and, per event, in one transaction:

1. **stores it once** — a ``TrackingEvent`` unique per (provider, event id); anymail's
   ``event_id`` where the provider gives one (Mailgun's signature token, Resend's ``svix-id``,
   Postmark's bounce ``ID``), else the sha256 of the provider's raw event, so a replayed webhook
   finds its row and changes nothing at all;
2. **moves the dispatch's delivery status forward** — the ``Dispatch`` whose ``esp_message_id``
   is the event's message id takes anymail's event type (``delivered``, ``bounced``,
   ``opened``...) unless it already holds a later one (``STATUS_RANK``): reports arrive out of
   order, and a late ``delivered`` or ``opened`` must never hide a bounce or a complaint;
3. **suppresses the address** (lowercased) for marketing after a hard bounce or a complaint —
   never after a soft bounce or a deferral (``is_hard_bounce``); transactional mail still goes;
4. **unsubscribes the newsletter subscriber** the provider reports as ``unsubscribed``.

Which settings verify each provider's calls is here too (``PROVIDERS``, ``webhook_status``),
with the system checks that report a deployment whose provider's webhooks would be refused.
"""

import base64
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from anymail.signals import EventType, RejectReason, tracking
from anymail.utils import get_anymail_setting
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import Dispatch, Subscriber, Suppression, TrackingEvent

logger = logging.getLogger(__name__)


# --- the providers whose webhooks are received, and what verifies their calls -------------------


@dataclass(frozen=True)
class Provider:
    esp_name: str  # anymail's name: the prefix of its settings (``MAILGUN_WEBHOOK_SIGNING_KEY``)
    # Anymail settings (name, also read without the ANYMAIL prefix) holding its signature key.
    signing_settings: tuple[tuple[str, bool], ...]
    # Mailgun's view can't run without its signing key; the others accept basic auth alone.
    signature_required: bool
    configure: str  # what an operator sets, for messages


PROVIDERS: dict[str, Provider] = {
    "mailgun": Provider(
        "Mailgun",
        # As anymail: the webhook signing key, else (older accounts) the API key.
        (("webhook_signing_key", False), ("api_key", True)),
        signature_required=True,
        configure="MAILGUN_WEBHOOK_SIGNING_KEY",
    ),
    "resend": Provider(
        "Resend",
        (("signing_secret", False),),
        signature_required=False,
        configure="RESEND_SIGNING_SECRET (or ANYMAIL_WEBHOOK_SECRET for basic auth)",
    ),
    "postmark": Provider(
        "Postmark", (), signature_required=False, configure="ANYMAIL_WEBHOOK_SECRET"
    ),
}

WebhookStatus = Literal["verified", "unverified", "unusable"]


def signing_secret(provider: Provider) -> str | None:
    for name, bare in provider.signing_settings:
        value = get_anymail_setting(name, esp_name=provider.esp_name, default=None, allow_bare=bare)
        if value:
            return str(value)
    return None


def webhook_status(name: str) -> WebhookStatus:
    """``verified``: its calls are checked (its signature, or ANYMAIL ``WEBHOOK_SECRET`` basic
    auth); ``unverified``: anymail would take anyone's call; ``unusable``: it can't run at all."""
    provider = PROVIDERS[name]
    if signing_secret(provider):
        return "verified"
    if provider.signature_required:
        return "unusable"
    return "verified" if get_anymail_setting("webhook_secret", default=None) else "unverified"


def svix_key(secret: str) -> bytes:
    """The HMAC key of a Svix / Standard Webhooks secret (``whsec_`` + base64), as Resend shows
    it. Raises ValueError."""
    return base64.b64decode(secret.removeprefix("whsec_"), validate=True)


def _sending_esps() -> set[str]:
    """The anymail ESPs mail is sent through: EMAIL_BACKEND and the sender identities' own."""
    backends = {settings.EMAIL_BACKEND}
    for identity in getattr(settings, "NOTIFICATION_IDENTITIES", {}).values():
        backends.add((identity.get("options") or {}).get("backend") or "")
    parts = [backend.split(".") for backend in backends]
    return {p[2] for p in parts if p[:2] == ["anymail", "backends"] and len(p) > 3} - {"test"}


@register(Tags.security, deploy=True)
def check_tracking_webhooks(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Production sends through an ESP whose bounce and complaint webhooks are refused: no
    address would ever be suppressed."""
    messages: list[CheckMessage] = []
    for esp in sorted(_sending_esps()):
        if esp not in PROVIDERS:
            messages.append(
                CheckWarning(
                    f"Email is sent through {esp}, whose delivery webhooks this project does not "
                    "receive: its bounces and complaints never suppress an address.",
                    hint=f"Send through one of {', '.join(PROVIDERS)}, or add {esp} to "
                    "notifications.tracking.PROVIDERS and notifications.apis_tracking.",
                    id="notifications.W002",
                )
            )
        elif webhook_status(esp) != "verified":
            messages.append(
                CheckWarning(
                    f"Email is sent through {esp}, but its tracking webhook can't be verified, so "
                    "every call is refused: bounces and complaints never suppress an address.",
                    hint=f"Set {PROVIDERS[esp].configure}.",
                    id="notifications.W001",
                )
            )
    return messages


@register()
def check_resend_signing_secret(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    secret = signing_secret(PROVIDERS["resend"])
    try:
        if secret:
            svix_key(secret)
    except ValueError:
        return [
            Error(
                "RESEND_SIGNING_SECRET is not a webhook signing secret: every Resend webhook "
                "would fail.",
                hint="Copy it from Resend's webhook page: whsec_ followed by base64.",
                id="notifications.E001",
            )
        ]
    return []


# --- recording an event ---------------------------------------------------------------------------

# How far along a message is. A report moves a dispatch's delivery_status only to a rank at least
# its current one; other types (autoresponded, subscribed, unknown...) are stored, not applied.
STATUS_RANK: dict[str, int] = {
    EventType.QUEUED: 0,
    EventType.SENT: 1,
    EventType.DEFERRED: 2,
    EventType.DELIVERED: 3,
    EventType.OPENED: 4,
    EventType.CLICKED: 5,
    EventType.UNSUBSCRIBED: 6,
    EventType.REJECTED: 7,
    EventType.FAILED: 7,
    EventType.BOUNCED: 7,
    EventType.COMPLAINED: 8,
}


def is_soft_bounce(provider: str, event: Any) -> bool:
    """A ``bounced`` event the provider marks temporary (Postmark's ``SoftBounce``, a Resend
    bounce whose type isn't ``Permanent``): a delay, not a failure."""
    if event.event_type != EventType.BOUNCED:
        return False
    raw = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    if provider == "postmark":
        return bool(raw.get("Type") == "SoftBounce")
    if provider == "resend":
        data = raw.get("data")
        bounce = data.get("bounce") if isinstance(data, Mapping) else None
        return isinstance(bounce, Mapping) and bool(bounce.get("type")) and (
            bounce["type"] != "Permanent")  # fmt: skip
    return False


def is_hard_bounce(provider: str, event: Any) -> bool:
    """The address itself can't receive mail: a ``bounced`` event whose reject reason is
    ``bounced`` (or not given), unless the provider marks it temporary (Postmark's
    ``SoftBounce``; a Resend bounce whose type isn't ``Permanent``; Mailgun's temporary
    failures arrive as ``deferred``), or the provider refusing to send (``rejected``) because
    the address bounced before."""
    if event.event_type == EventType.REJECTED:
        return bool(event.reject_reason == RejectReason.BOUNCED)
    if event.event_type != EventType.BOUNCED:
        return False
    raw = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    if provider == "postmark" and raw.get("Type") == "SoftBounce":
        return False
    if provider == "resend":
        data = raw.get("data")
        bounce = data.get("bounce") if isinstance(data, Mapping) else None
        if isinstance(bounce, Mapping) and bounce.get("type"):
            return bool(bounce["type"] == "Permanent")
    return event.reject_reason in (RejectReason.BOUNCED, None)


def _jsonable(esp_event: Any) -> Any:
    if esp_event is None:
        return {}
    if hasattr(esp_event, "lists"):  # a form post (Mailgun's legacy webhooks): a QueryDict
        esp_event = dict(esp_event.lists())
    return json.loads(json.dumps(esp_event, default=str))


PAYLOAD_MAX_CHARS = 64 * 1024  # a bounce can carry the whole returned message (Postmark's Content)


def _bounded(payload: Any) -> Any:
    """The raw event as stored: whole, unless it is huge; then its small fields and the names of
    the ones left out (the event id was taken from the whole)."""
    if len(json.dumps(payload)) <= PAYLOAD_MAX_CHARS:
        return payload
    if not isinstance(payload, dict):
        return {"_omitted": "all"}
    kept = {key: value for key, value in payload.items() if len(json.dumps(value)) <= 1024}
    return {**kept, "_omitted": sorted(set(payload) - set(kept))}


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment, UTC)
    return moment


def _message_ids(message_id: str) -> list[str]:
    """Mailgun's ids are ``<...>`` in both the send answer and the events; match either form."""
    bare = message_id.strip().strip("<>").strip()
    return [bare, f"<{bare}>"] if bare else []


def record_tracking_event(*, provider: str, event: Any) -> TrackingEvent | None:
    """Store one ``AnymailTrackingEvent`` and apply it (see the module docstring). None when it
    was stored before: a replay changes nothing."""
    payload = _jsonable(event.esp_event)
    event_id = str(event.event_id or "") or _digest(payload)
    if len(event_id) > 191:
        event_id = _digest(event_id)
    event_type = str(event.event_type or EventType.UNKNOWN)[:32]
    recipient = str(event.recipient or "").strip().lower()[:254]
    message_id = str(event.message_id or "")[:255]
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                row = TrackingEvent.objects.create(
                    provider=provider[:32],
                    event_id=event_id,
                    event_type=event_type,
                    message_id=message_id,
                    recipient=recipient,
                    reject_reason=str(event.reject_reason or "")[:32],
                    occurred_at=_aware(event.timestamp),
                    payload=_bounded(payload),
                )
        except IntegrityError:
            logger.info(
                "tracking event already recorded",
                extra={"provider": provider, "event_id": event_id, "event_type": event_type},
            )
            return None
        hard_bounce = is_hard_bounce(provider, event)
        # A soft bounce is a delay, not a bounce: the dispatch (and a campaign's "bounced"
        # count) records it as deferred; the stored event keeps the provider's own type.
        status = EventType.DEFERRED if is_soft_bounce(provider, event) else event_type
        dispatch = _advance_dispatch(message_id, status) if message_id else None
        if recipient and event_type == EventType.COMPLAINED:
            _suppress(row, Suppression.Reason.COMPLAINED, event)
        elif recipient and hard_bounce:
            _suppress(row, Suppression.Reason.BOUNCED, event)
        if recipient and event_type == EventType.UNSUBSCRIBED:
            _unsubscribe(row, campaign_id=dispatch.campaign_id if dispatch else None)
    logger.info(
        "tracking event %s recorded",
        row.pk,
        extra={
            "provider": provider,
            "event_type": event_type,
            "dispatch_id": dispatch.pk if dispatch else None,
        },
    )
    return row


def _advance_dispatch(message_id: str, status: str) -> Dispatch | None:
    ids = _message_ids(message_id)
    dispatch = (
        Dispatch.objects.filter(esp_message_id__in=ids)
        .only("pk", "campaign")
        .order_by("pk")
        .first()
    )
    rank = STATUS_RANK.get(status)
    if dispatch is None or rank is None:
        return dispatch
    earlier = ["", *(name for name, at in STATUS_RANK.items() if at <= rank)]
    # Conditional: a concurrent later report (a bounce) is never overwritten by this one.
    Dispatch.objects.filter(esp_message_id__in=ids, delivery_status__in=earlier).update(
        delivery_status=status
    )
    return dispatch


def _suppress(row: TrackingEvent, reason: str, event: Any) -> None:
    detail = f"{row.provider} {row.event_type}: {event.description or event.mta_response or ''}"
    _, created = Suppression.objects.get_or_create(
        address=row.recipient, defaults={"reason": reason, "detail": detail.strip(": ")[:255]}
    )
    if created:
        logger.info("address suppressed (%s)", reason, extra={"tracking_event_id": row.pk})


def _unsubscribe(row: TrackingEvent, *, campaign_id: int | None) -> None:
    changed = (
        Subscriber.objects.filter(address=row.recipient)
        .exclude(status=Subscriber.Status.UNSUBSCRIBED)
        .update(
            status=Subscriber.Status.UNSUBSCRIBED,
            unsubscribed_at=timezone.now(),
            unsubscribed_from_id=campaign_id,
        )
    )
    if changed:
        logger.info("subscriber unsubscribed by provider", extra={"tracking_event_id": row.pk})


def provider_name(esp_name: str) -> str:
    """Anymail's ESP name as this project spells providers: ``Amazon SES`` → ``amazon_ses``."""
    return esp_name.strip().lower().replace(" ", "_")


def _on_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    record_tracking_event(provider=provider_name(esp_name), event=event)


tracking.connect(_on_tracking, dispatch_uid="notifications.tracking.record_tracking_event")
