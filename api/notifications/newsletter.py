"""The newsletter: double opt-in subscription, confirmation, RFC 8058 one-click unsubscribe.

An address is ``pending`` from the moment someone asks to subscribe it until its owner follows
the emailed confirmation link; then ``subscribed`` until they unsubscribe (one click in the mail
client, or the link in any newsletter). A previously unsubscribed address that asks again is
``pending`` again and must confirm again: consent is given by whoever reads that mailbox, never
by whoever typed the address into a form.

**Pending periods.** A pending period starts when the row is created, or when an unsubscribed
address asks again; ``pending_since`` names it (``created_at``, or the ``unsubscribed_at`` that
ended the previous period — a new timestamp for every unsubscription). Confirmation tokens carry
their period, so a link from before an unsubscription can't subscribe the address again.

**One confirmation per click.** The confirmation's ``notify`` key is
``newsletter_confirm:<subscriber id>:<pending_since>:<slot>``, where ``slot`` counts
``CONFIRM_RESEND_AFTER`` windows since the period began. Within a window a double click, a
client retry or two concurrent requests compute the same key, and the dispatch ledger's unique
key sends one email; a new pending period (re-subscribing after an unsubscribe) is a new key, so
it gets its own email. Asking again in a later window of the same period sends a fresh link —
deliberately: a first email lost to a spam folder must not strand its owner for the token's
seven days. The per-address throttle (3/hour) bounds how many that can be.

**Tokens.** Confirmation: ``signing.dumps({"s": id, "a": address, "p": pending_since}, salt=
CONFIRM_SALT)``, valid ``CONFIRM_MAX_AGE`` (7 days). Unsubscribe: ``services.unsubscribe_token``
(``{"a": address, "c": campaign id}``, salt ``UNSUBSCRIBE_SALT``), with no expiry: a link in a
years-old newsletter must still work. Both are signed with SECRET_KEY (rotating it invalidates
every link sent, unless the old key stays in SECRET_KEY_FALLBACKS) and hold no secret.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from core.exceptions import ApplicationError
from notifications import services
from notifications.models import Campaign, Language, Subscriber

logger = logging.getLogger(__name__)

CONFIRM_SALT = "notifications.newsletter.confirm"
CONFIRM_MAX_AGE = timedelta(days=7)
CONFIRM_RESEND_AFTER = timedelta(minutes=10)


class InvalidToken(ApplicationError):
    code = "invalid_token"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = "This link is not valid. Use the newest link we sent, or subscribe again."


class TokenExpired(InvalidToken):
    code = "token_expired"
    default_message = "This confirmation link has expired. Subscribe again for a new one."


# --- tokens --------------------------------------------------------------------------------------


def pending_since(subscriber: Subscriber) -> datetime:
    """When the subscriber's current (or latest) pending period began."""
    return subscriber.unsubscribed_at or subscriber.created_at


def _period(subscriber: Subscriber) -> int:
    return int(pending_since(subscriber).timestamp() * 1_000_000)


def confirm_token(subscriber: Subscriber) -> str:
    payload = {"s": subscriber.pk, "a": subscriber.address, "p": _period(subscriber)}
    return signing.dumps(payload, salt=CONFIRM_SALT)


def confirm_url(token: str) -> str:
    """The page with the confirm button (a scanner following the link confirms nothing)."""
    return f"{settings.PUBLIC_URL}/newsletter/confirm/?token={token}"


def confirm_address(token: str) -> str:
    """The address a confirmation token is for (read only). Raises InvalidToken/TokenExpired."""
    return str(_load(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)["a"])


def unsubscribe_address(token: str) -> str:
    """The address an unsubscribe token is for (read only). Raises InvalidToken."""
    return _unsubscribe_payload(token)[0]


def _load(token: str, *, salt: str, max_age: timedelta | None = None) -> dict[str, Any]:
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise TokenExpired() from None
    except (signing.BadSignature, ValueError):
        raise InvalidToken() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), str):
        raise InvalidToken()
    return payload


def _unsubscribe_payload(token: str) -> tuple[str, int | None]:
    payload = _load(token, salt=services.UNSUBSCRIBE_SALT)
    campaign_id = payload.get("c")
    if campaign_id is not None and (type(campaign_id) is not int):
        raise InvalidToken()
    return payload["a"].strip().lower(), campaign_id


# --- subscribing ---------------------------------------------------------------------------------


def subscribe(*, address: str, user_id: int | None = None, language: str = "ar") -> Subscriber:
    """Start (or continue) a double opt-in for ``address``; the confirmation is emailed once the
    transaction commits. An already subscribed address gets no email. ``user_id`` links the
    row to an account: pass it only when ``address`` is that account's own (verified) address."""
    address = address.strip().lower()
    if language not in Language.values:
        language = Language.ARABIC
    now = timezone.now()
    with transaction.atomic(durable=True):
        subscriber = _locked_or_created(
            address=address, user_id=user_id, language=language, now=now
        )
        if subscriber.status == Subscriber.Status.SUBSCRIBED:
            if user_id is not None and subscriber.user_id is None:
                subscriber.user_id = user_id
                subscriber.save(update_fields=["user"])
            return subscriber
        fields = []
        if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
            # Keeps unsubscribed_at: it is when this new pending period began.
            subscriber.status = Subscriber.Status.PENDING
            fields.append("status")
        if subscriber.language != language:
            subscriber.language = language
            fields.append("language")
        if user_id is not None and subscriber.user_id is None:
            subscriber.user_id = user_id
            fields.append("user")
        if fields:
            subscriber.save(update_fields=fields)
        _send_confirmation(subscriber, now=now)
    logger.info("newsletter subscriber %s pending", subscriber.pk)
    return subscriber


def _locked_or_created(*, address: str, user_id: int | None, language: str, now: datetime) -> Any:
    subscriber = Subscriber.objects.select_for_update().filter(address=address).first()
    if subscriber is not None:
        return subscriber
    try:
        with transaction.atomic():
            return Subscriber.objects.create(
                address=address, user_id=user_id, language=language, created_at=now
            )
    except IntegrityError:  # created by a concurrent request since we looked
        return Subscriber.objects.select_for_update().get(address=address)


def _send_confirmation(subscriber: Subscriber, *, now: datetime) -> None:
    since = pending_since(subscriber)
    slot = int((now - since) / CONFIRM_RESEND_AFTER)
    services.notify(
        "newsletter_confirm",
        key=f"newsletter_confirm:{subscriber.pk}:{_period(subscriber)}:{slot}",
        user_id=subscriber.user_id,
        address=subscriber.address,
        language=subscriber.language,
        context={"confirm_url": confirm_url(confirm_token(subscriber))},
        in_app=False,
    )


def confirm(token: str) -> Subscriber:
    """Confirm the subscription a confirmation token was sent for; confirming twice is fine.
    Raises TokenExpired after CONFIRM_MAX_AGE, InvalidToken for a tampered token or one from
    before the address last unsubscribed."""
    payload = _load(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    subscriber_id, period = payload.get("s"), payload.get("p")
    if type(subscriber_id) is not int or type(period) is not int:
        raise InvalidToken()
    subscriber = Subscriber.objects.filter(pk=subscriber_id, address=payload["a"]).first()
    if subscriber is None:
        raise InvalidToken()
    if subscriber.status == Subscriber.Status.SUBSCRIBED:
        return subscriber
    if subscriber.status != Subscriber.Status.PENDING or _period(subscriber) != period:
        raise InvalidToken()
    # Conditional: an unsubscribe committed since the read above wins.
    now = timezone.now()
    changed = Subscriber.objects.filter(
        pk=subscriber.pk,
        status=Subscriber.Status.PENDING,
        unsubscribed_at=subscriber.unsubscribed_at,
    ).update(status=Subscriber.Status.SUBSCRIBED, confirmed_at=now)
    subscriber.refresh_from_db()
    if changed:
        logger.info("newsletter subscriber %s confirmed", subscriber.pk)
    elif subscriber.status != Subscriber.Status.SUBSCRIBED:
        raise InvalidToken()
    return subscriber


# --- unsubscribing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnsubscribePreview:
    """What a one-click unsubscribe link would do, for the page a person sees before clicking."""

    address: str  # masked
    status: str  # the Subscriber.Status, or "not_subscribed" for an address with no row
    action: str  # "unsubscribe", or "none" when already unsubscribed


NOT_SUBSCRIBED = "not_subscribed"


def mask_address(address: str) -> str:
    """``a***@example.com``: enough for its owner to recognise it, not to harvest it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def describe_unsubscribe(token: str) -> UnsubscribePreview:
    """Read only: what ``unsubscribe(token)`` would do. Raises InvalidToken."""
    address, _campaign_id = _unsubscribe_payload(token)
    row = Subscriber.objects.filter(address=address).values_list("status", flat=True).first()
    current = row or NOT_SUBSCRIBED
    action = "none" if current == Subscriber.Status.UNSUBSCRIBED else "unsubscribe"
    return UnsubscribePreview(address=mask_address(address), status=current, action=action)


def unsubscribe(token: str) -> Subscriber:
    """Unsubscribe the address a marketing email was sent to (RFC 8058 one-click); again is a
    no-op that keeps the first unsubscription's time and campaign. An address with no row gets
    an unsubscribed one, so the opt-out is on record for whatever mails it next. Raises
    InvalidToken."""
    address, campaign_id = _unsubscribe_payload(token)
    campaign = None
    if campaign_id is not None:
        campaign = Campaign.objects.filter(pk=campaign_id).first()
    now = timezone.now()
    with transaction.atomic(durable=True):
        subscriber, created = Subscriber.objects.get_or_create(
            address=address,
            defaults={
                "status": Subscriber.Status.UNSUBSCRIBED,
                "created_at": now,
                "unsubscribed_at": now,
                "unsubscribed_from": campaign,
            },
        )
        changed = created or _mark_unsubscribed([subscriber.pk], now=now, campaign=campaign) > 0
    if changed:
        subscriber.refresh_from_db()
        logger.info(
            "newsletter subscriber %s unsubscribed",
            subscriber.pk,
            extra={"campaign_id": campaign.pk if campaign else None},
        )
    return subscriber


def unsubscribe_subscribers(*, subscriber_ids: Iterable[int]) -> int:
    """Staff's unsubscribe of chosen subscribers (the admin); how many changed."""
    with transaction.atomic():
        return _mark_unsubscribed(list(subscriber_ids), now=timezone.now(), campaign=None)


def _mark_unsubscribed(ids: list[int], *, now: datetime, campaign: Campaign | None) -> int:
    return (
        Subscriber.objects.filter(pk__in=ids)
        .exclude(status=Subscriber.Status.UNSUBSCRIBED)
        .update(
            status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=now, unsubscribed_from=campaign
        )
    )
