"""Writes to accounts: activity, one-time codes, profile, avatar, email change, deletion."""

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from oauth2_provider import models as oauth2
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.exceptions import CodeExpired, CodeLocked, InvalidCode
from accounts.models import ActivityLog, OneTimeCode, User
from core.clients import NO_CLIENT, ClientInfo
from core.images import process_image
from core.realtime import ring
from core.websocket import SESSION_REVOKED
from notifications.models import Dispatch
from notifications.services import notify

logger = logging.getLogger(__name__)

# --- activity ------------------------------------------------------------------------------------


def record_activity(
    *,
    user: User,
    action: str,
    client: ClientInfo = NO_CLIENT,
    details: Mapping[str, Any] | None = None,
) -> ActivityLog:
    entry = ActivityLog.objects.create(
        user=user,
        action=action,
        ip_address=client.ip,
        user_agent=client.user_agent,
        details=dict(details or {}),
    )
    logger.info("account activity %s", action, extra={"user_id": user.pk, "action": action})
    return entry


# --- one-time codes ------------------------------------------------------------------------------


def _code_hash(*, user_id: int, purpose: str, code: str) -> str:
    # Keyed with SECRET_KEY: a database leak alone doesn't reveal codes, even though a 6-digit
    # space would fall to brute force against a plain hash.
    value = f"{user_id}:{purpose}:{code}"
    return salted_hmac("sudamall.one-time-code", value, algorithm="sha256").hexdigest()


def issue_code(*, user: User, purpose: str, target_email: str = "") -> str:
    """Create a new code for ``purpose``, superseding the user's previous one. Returns the code
    in clear, to be emailed; only its hash is stored."""
    return _issue_code(user=user, purpose=purpose, target_email=target_email)[0]


def _issue_code(*, user: User, purpose: str, target_email: str) -> tuple[str, OneTimeCode]:
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        # One issuer at a time per user, so two concurrent requests can't leave two live codes.
        User.objects.select_for_update().filter(pk=user.pk).first()
        OneTimeCode.objects.filter(
            user=user, purpose=purpose, used_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
        row = OneTimeCode.objects.create(
            user=user,
            purpose=purpose,
            code_hash=_code_hash(user_id=user.pk, purpose=purpose, code=code),
            target_email=target_email,
            expires_at=now + settings.OTP_TTL,
        )
    return code, row


def send_code(
    *, user: User, purpose: str, client: ClientInfo = NO_CLIENT, target_email: str = ""
) -> None:
    """Issue a code and email it (to ``target_email`` when given) after commit. The email is
    never sent once the code has expired (a worker backlog, a provider outage)."""
    with transaction.atomic():
        code, row = _issue_code(user=user, purpose=purpose, target_email=target_email)
        notify_user(
            user,
            "code",
            key=f"code:{row.pk}",
            address=target_email or user.email,
            expires_at=row.expires_at,
            context={
                "purpose": purpose,
                "code": code,
                "first_name": user.first_name,
                "minutes": int(settings.OTP_TTL.total_seconds() // 60),
            },
        )
        record_activity(
            user=user,
            action=ActivityLog.Action.CODE_REQUESTED,
            client=client,
            details={"purpose": purpose},
        )


def consume_code(*, user: User, purpose: str, code: str) -> OneTimeCode:
    """Use the user's current code for ``purpose``. Raises InvalidCode, CodeExpired, CodeLocked.

    Runs in its own transaction so a wrong try is counted even when the caller's operation
    fails: call it before, not inside, the transaction that acts on the code.
    """
    now = timezone.now()
    error: InvalidCode | None = None
    with transaction.atomic(durable=True):
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(user=user, purpose=purpose, used_at__isnull=True, superseded_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        recent_failures = (
            OneTimeCode.objects.filter(
                user=user, purpose=purpose, created_at__gte=now - settings.OTP_FAILURE_WINDOW
            ).aggregate(total=Sum("attempts"))["total"]
            or 0
        )
        if otp is None:
            error = InvalidCode()
        elif otp.is_locked or recent_failures >= settings.OTP_MAX_FAILURES_PER_WINDOW:
            # Asking for fresh codes doesn't buy fresh guesses: failures count per user and
            # purpose across codes, within the window.
            error = CodeLocked()
            error = CodeLocked()
        elif otp.expires_at <= now:
            error = CodeExpired()
        elif not constant_time_compare(
            otp.code_hash, _code_hash(user_id=user.pk, purpose=purpose, code=code)
        ):
            OneTimeCode.objects.filter(pk=otp.pk).update(attempts=F("attempts") + 1)
            locked = otp.attempts + 1 >= settings.OTP_MAX_ATTEMPTS
            error = CodeLocked() if locked else InvalidCode()
        else:
            otp.used_at = now
            otp.save(update_fields=["used_at"])
            OneTimeCode.objects.filter(
                user=user, purpose=purpose, used_at__isnull=True, superseded_at__isnull=True
            ).update(superseded_at=now)
    if error is not None:
        logger.info("one-time code refused", extra={"user_id": user.pk, "purpose": purpose})
        raise error
    assert otp is not None
    return otp


# --- tokens --------------------------------------------------------------------------------------


def revoke_all_tokens(*, user: User) -> None:
    """Every token issued to the user stops working: access tokens through the version claim,
    refresh tokens through the blacklist."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    # OAuth2 grants die too: an application the user authorised must re-authorise.
    oauth2.get_access_token_model().objects.filter(user=user).delete()
    oauth2.get_refresh_token_model().objects.filter(user=user).delete()
    oauth2.get_grant_model().objects.filter(user=user).delete()
    # And every open socket of the user closes (4401), once this commits.
    user_id = user.pk
    transaction.on_commit(lambda: ring(user_id, {"type": SESSION_REVOKED, "all": True}))


# --- profile -------------------------------------------------------------------------------------

PROFILE_FIELDS = ("first_name", "last_name", "language", "phone_number", "whatsapp_number")


def process_avatar(upload: UploadedFile) -> ContentFile:
    return process_image(upload, field="avatar", max_side=settings.AVATAR_SIZE)


def update_profile(*, user: User, data: Mapping[str, Any], client: ClientInfo = NO_CLIENT) -> User:
    changed = [f for f in PROFILE_FIELDS if f in data and getattr(user, f) != data[f]]
    for field in changed:
        setattr(user, field, data[field])
    old_avatar = None
    if "avatar" in data:
        old_avatar = user.avatar.name if user.avatar else None
        user.avatar = process_avatar(data["avatar"]) if data["avatar"] else None
        changed.append("avatar")
    if not changed:
        return user
    with transaction.atomic():
        user.save(update_fields=changed)
        record_activity(
            user=user,
            action=ActivityLog.Action.PROFILE_UPDATED,
            client=client,
            details={"fields": changed},
        )
        if old_avatar:
            storage = user.avatar.storage
            transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


# --- email change --------------------------------------------------------------------------------


def request_email_change(*, user: User, new_email: str, client: ClientInfo = NO_CLIENT) -> None:
    """Email a code to ``new_email``. Says nothing about whether that address is taken: if it
    is, no code is sent."""
    new_email = User.objects.normalize_email(new_email).lower()
    if User.objects.filter(email__iexact=new_email).exists():
        # A code is issued all the same (superseding the last one), just never sent, so later
        # answers can't tell a taken address from a free one.
        issue_code(user=user, purpose=OneTimeCode.Purpose.CHANGE_EMAIL, target_email=new_email)
        logger.info("email change to a taken address not sent", extra={"user_id": user.pk})
        return
    send_code(
        user=user, purpose=OneTimeCode.Purpose.CHANGE_EMAIL, client=client, target_email=new_email
    )


def confirm_email_change(*, user: User, code: str, client: ClientInfo = NO_CLIENT) -> User:
    try:
        otp = consume_code(user=user, purpose=OneTimeCode.Purpose.CHANGE_EMAIL, code=code)
    except InvalidCode as exc:
        raise InvalidCode() from exc  # one answer: locked or expired would hint at the address
    old_email = user.email
    try:
        with transaction.atomic():
            user.email = otp.target_email
            user.is_email_verified = True
            user.save(update_fields=["email", "is_email_verified"])
            record_activity(
                user=user, action=ActivityLog.Action.EMAIL_CHANGED, client=client, details={}
            )
    except IntegrityError as exc:
        user.email = old_email
        raise InvalidCode("That address is no longer available.") from exc
    return user


# --- deletion ------------------------------------------------------------------------------------


def delete_account(*, user: User, code: str, client: ClientInfo = NO_CLIENT) -> None:
    """Confirm with a ``delete_account`` code, then anonymise the account and revoke its tokens.

    The row stays (orders and payments keep pointing at it) but nothing personal remains and it
    can never sign in again; the address becomes free for a new registration.
    """
    consume_code(user=user, purpose=OneTimeCode.Purpose.DELETE_ACCOUNT, code=code)
    avatar_name = user.avatar.name if user.avatar else None
    with transaction.atomic():
        record_activity(user=user, action=ActivityLog.Action.ACCOUNT_DELETED, client=client)
        user.email = f"deleted-{user.pk}-{secrets.token_hex(4)}@deleted.invalid"
        user.first_name = user.last_name = ""
        user.phone_number = user.whatsapp_number = ""
        user.avatar = None
        user.set_unusable_password()
        user.is_active = False
        user.deleted_at = timezone.now()
        user.save()
        revoke_all_tokens(user=user)
        OneTimeCode.objects.filter(user=user).delete()
        if avatar_name:
            storage = User._meta.get_field("avatar").storage
            transaction.on_commit(lambda: storage.delete(avatar_name))
    logger.info("account deleted", extra={"user_id": user.pk})


def notify_user(
    user: User,
    kind: str,
    *,
    key: str,
    context: Mapping[str, Any],
    address: str | None = None,
    expires_at: Any = None,
    queue: bool = True,
) -> Dispatch | None:
    """Notify a person (email to their address in their language, and/or an in-app row, as
    their preferences and the kind allow) once per ``key``, after the caller's commit. Returns
    the dispatch, or None when ``key`` was used already (``queue``: see ``notify``)."""
    return notify(
        kind,
        key=key,
        context=context,
        user_id=user.pk,
        address=user.email if address is None else address,
        language=user.language,
        expires_at=expires_at,
        queue=queue,
    )
