"""Sign-up, sign-in and credential flows. Account data changes go through accounts.services."""

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from accounts.exceptions import InvalidCode
from accounts.models import ActivityLog, OneTimeCode, User
from authentication import google, sessions
from authentication.exceptions import EmailNotVerified, InvalidCredentials, InvalidToken
from authentication.models import ExternalIdentity, SignInSession
from authentication.throttles import LoginFailureLimiter
from core import outbox
from core.clients import NO_CLIENT, ClientInfo
from stores import services as store_services

logger = logging.getLogger(__name__)

TOKEN_VERSION_CLAIM = "ver"  # noqa: S105 - a claim name, not a secret
SESSION_CLAIM = "sid"  # the sign-in session (refresh-token family) a token belongs to


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def issue_tokens(*, user: User, session_id: str | None = None) -> TokenPair:
    """A fresh access + refresh pair of a sign-in session (a new one unless ``session_id``
    continues one); the refresh token is recorded so it can be revoked."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    if session_id:
        sessions.refreshed(session_id=session_id)
    refresh[SESSION_CLAIM] = session_id or str(sessions.start(user_id=user.pk).pk)
    update_last_login(None, user)  # type: ignore[arg-type]
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _validate_password(password: str, *, user: User, field: str) -> None:
    """Django's password validators, with their messages under ``field``."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _find_user(email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip(), is_active=True).first()


# --- registration and verification ---------------------------------------------------------------


def register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    account_type: str = User.AccountType.BUYER,
    phone_number: Any = "",
    whatsapp_number: Any = "",
    store: dict[str, Any] | None = None,
    client: ClientInfo = NO_CLIENT,
) -> User:
    """Create an unverified account (and a business owner's first store, in the same
    transaction) and email it a verification code. Raises ValidationError when the email is
    taken or the password is weak."""
    email = User.objects.normalize_email(email).lower()
    candidate = User(
        email=email, first_name=first_name, last_name=last_name, account_type=account_type
    )
    _validate_password(password, user=candidate, field="password")
    duplicate = ValidationError({"email": ["An account with this email already exists."]})
    if User.objects.filter(email__iexact=email).exists():
        raise duplicate
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                account_type=account_type,
                phone_number=phone_number,
                whatsapp_number=whatsapp_number,
            )
            account_services.record_activity(
                user=user, action=ActivityLog.Action.REGISTERED, client=client
            )
            if store:
                store_services.create_store(owner=user, data=store)
            account_services.send_code(
                user=user, purpose=OneTimeCode.Purpose.VERIFY_EMAIL, client=client
            )
    except IntegrityError as exc:  # a concurrent registration won the race
        raise duplicate from exc
    logger.info("account registered", extra={"user_id": user.pk})
    return user


def verify_email(*, email: str, code: str, client: ClientInfo = NO_CLIENT) -> User:
    """Raises InvalidCode alike for an unknown address, a verified one or a bad code."""
    user = User.objects.filter(
        email__iexact=email.strip(), is_active=True, is_email_verified=False
    ).first()
    if user is None:
        raise InvalidCode()
    account_services.consume_code(user=user, purpose=OneTimeCode.Purpose.VERIFY_EMAIL, code=code)
    with transaction.atomic():
        user.is_email_verified = True
        user.save(update_fields=["is_email_verified"])
        account_services.record_activity(
            user=user, action=ActivityLog.Action.EMAIL_VERIFIED, client=client
        )
        account_services.notify_user(
            user,
            "welcome",
            key=f"welcome:{user.pk}",
            context={"first_name": user.first_name, "account_type": user.account_type},
        )
    return user


def _in_the_worker(task_name: str, *, email: str, client: ClientInfo) -> None:
    """Requests that must not tell whether an address has an account (a reset, a resend) do
    the same here either way — one outbox row — and the worker looks the address up: a known
    address no longer answers measurably slower than an unknown one."""
    from authentication import tasks

    task = getattr(tasks, task_name)
    outbox.enqueue(task, {"email": email, "ip": client.ip, "user_agent": client.user_agent})


def resend_verification(*, email: str, client: ClientInfo = NO_CLIENT) -> None:
    """Send a new code if an unverified account has this address, from the worker."""
    _in_the_worker("resend_verification_task", email=email, client=client)


def send_verification_code(*, email: str, client: ClientInfo = NO_CLIENT) -> None:
    """The worker's half of ``resend_verification``."""
    user = User.objects.filter(
        email__iexact=email.strip(), is_active=True, is_email_verified=False
    ).first()
    if user is not None:
        account_services.send_code(
            user=user, purpose=OneTimeCode.Purpose.VERIFY_EMAIL, client=client
        )


# --- sign-in and tokens --------------------------------------------------------------------------


def login(*, email: str, password: str, client: ClientInfo) -> User:
    """Check the password. Raises InvalidCredentials, EmailNotVerified, or Throttled after
    repeated failures for this email or this client."""
    limiter = LoginFailureLimiter()
    ip = client.ip
    limiter.begin(email=email, ip=ip)
    user = authenticate(None, username=email.strip(), password=password)
    if user is None:
        known = _find_user(email)
        if known is not None:
            account_services.record_activity(
                user=known, action=ActivityLog.Action.LOGIN_FAILED, client=client
            )
        raise InvalidCredentials()
    assert isinstance(user, User)
    # Only a caller who knows the password learns that the address is unverified.
    limiter.succeeded(email=email, ip=ip)
    if not user.is_email_verified:
        raise EmailNotVerified()
    account_services.record_activity(user=user, action=ActivityLog.Action.LOGIN, client=client)
    return user


def rotate_refresh_token(*, token: str, client: ClientInfo = NO_CLIENT) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one stops working.

    The token's outstanding row is locked, so two concurrent uses of one token can't both
    succeed. Raises InvalidToken (expired, blacklisted, revoked, or its user can't sign in).
    """
    try:
        refresh = RefreshToken(token)  # type: ignore[arg-type]
    except TokenError as exc:
        _end_family_if_reused(token)
        raise InvalidToken() from exc
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update()
            .filter(jti=refresh["jti"])
            .select_related("user")
            .first()
        )
        if outstanding is None or outstanding.user is None:
            raise InvalidToken()
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        user = outstanding.user
        session_id = refresh.get(SESSION_CLAIM)
        live = (
            created
            and user.is_active
            and refresh.get(TOKEN_VERSION_CLAIM, 0) == user.token_version
            and sessions.is_live(session_id)
        )
        if live:
            return issue_tokens(user=user, session_id=session_id)
    if not created:  # lost a race with a concurrent use of the same token
        _end_family(session_id, user_id=user.pk)
    raise InvalidToken()


def _end_family_if_reused(token: str) -> None:
    """A correctly signed refresh token that was already rotated (or signed out) is being used
    again: whoever holds its successor may be the thief or the owner, so the whole family goes
    (OAuth 2.0 Security BCP, 4.14)."""
    try:
        payload = token_backend.decode(token, verify=True)  # type: ignore[arg-type]
    except TokenBackendError:
        return  # forged, garbled or expired: nothing to end
    if payload.get("token_type") != "refresh" or not payload.get(SESSION_CLAIM):
        return
    if BlacklistedToken.objects.filter(token__jti=payload.get("jti")).exists():
        _end_family(payload[SESSION_CLAIM], user_id=payload.get("user_id"))


def _end_family(session_id: str | None, *, user_id: Any) -> None:
    if session_id and sessions.revoke(session_id=session_id, reason=SignInSession.Reason.REUSE):
        logger.warning("rotated refresh token reused", extra={"user_id": user_id})


def logout(*, user: User, token: str, client: ClientInfo = NO_CLIENT) -> None:
    """Revoke one refresh token of the user's. Raises InvalidToken if it isn't theirs or live."""
    try:
        refresh = RefreshToken(token)  # type: ignore[arg-type]
    except TokenError as exc:
        raise InvalidToken() from exc
    if str(refresh.get("user_id")) != str(user.pk):
        raise InvalidToken()
    with transaction.atomic():
        refresh.blacklist()
        if refresh.get(SESSION_CLAIM):
            sessions.revoke(session_id=refresh[SESSION_CLAIM], reason=SignInSession.Reason.LOGOUT)
        account_services.record_activity(user=user, action=ActivityLog.Action.LOGOUT, client=client)


# --- Google --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoogleSignIn:
    user: User
    is_new_user: bool


def sign_in_with_google(
    *, id_token: str, account_type: str | None = None, client: ClientInfo = NO_CLIENT
) -> GoogleSignIn:
    """Verify the Google ID token, then find, link or create the account.

    Linking to an existing unverified account also removes its password: whoever registered it
    never proved they own the address, and Google just proved someone else does.
    """
    claims = google.verify_id_token(id_token)
    try:
        return _link_google_account(claims=claims, account_type=account_type, client=client)
    except IntegrityError:
        # A concurrent first sign-in created the user or identity: this time it is found.
        return _link_google_account(claims=claims, account_type=account_type, client=client)


def _link_google_account(
    *, claims: dict[str, Any], account_type: str | None, client: ClientInfo
) -> GoogleSignIn:
    subject, email = str(claims["sub"]), User.objects.normalize_email(claims["email"]).lower()
    now = timezone.now()
    with transaction.atomic():
        identity = (
            ExternalIdentity.objects.select_for_update()
            .select_related("user")
            .filter(provider=ExternalIdentity.Provider.GOOGLE, subject=subject)
            .first()
        )
        if identity is not None and identity.user.deleted_at is not None:
            identity.delete()  # the account was deleted: this Google account starts afresh
            identity = None
        is_new = False
        if identity is not None:
            user = identity.user
            if not user.is_active:
                raise InvalidCredentials("This account is disabled.")
            identity.last_login_at = now
            identity.email = email
            identity.save(update_fields=["last_login_at", "email"])
            action = ActivityLog.Action.GOOGLE_LOGIN
        else:
            user_or_none = User.objects.select_for_update().filter(email__iexact=email).first()
            if user_or_none is None:
                user = User.objects.create_user(
                    email,
                    password=None,
                    first_name=str(claims.get("given_name", ""))[:150],
                    last_name=str(claims.get("family_name", ""))[:150],
                    account_type=account_type or User.AccountType.BUYER,
                    is_email_verified=True,
                )
                is_new = True
                account_services.record_activity(
                    user=user,
                    action=ActivityLog.Action.REGISTERED,
                    client=client,
                    details={"provider": "google"},
                )
            else:
                user = user_or_none
                if not user.is_active:
                    raise InvalidCredentials("This account is disabled.")
                if not user.is_email_verified:
                    user.set_unusable_password()
                    user.is_email_verified = True
                    user.save(update_fields=["password", "is_email_verified"])
            ExternalIdentity.objects.create(
                user=user, provider=ExternalIdentity.Provider.GOOGLE, subject=subject, email=email
            )
            action = ActivityLog.Action.GOOGLE_LINKED
        account_services.record_activity(user=user, action=action, client=client)
        if is_new:
            account_services.notify_user(
                user,
                "welcome",
                key=f"welcome:{user.pk}",
                context={"first_name": user.first_name, "account_type": user.account_type},
            )
    return GoogleSignIn(user=user, is_new_user=is_new)


# --- password reset and codes for signed-in users ------------------------------------------------


def request_password_reset(*, email: str, client: ClientInfo = NO_CLIENT) -> None:
    """Email a reset code if an active account has this address, from the worker."""
    _in_the_worker("password_reset_task", email=email, client=client)


def send_password_reset_code(*, email: str, client: ClientInfo = NO_CLIENT) -> None:
    """The worker's half of ``request_password_reset``: nothing for an unknown address."""
    user = _find_user(email)
    if user is not None:
        account_services.send_code(
            user=user, purpose=OneTimeCode.Purpose.PASSWORD_RESET, client=client
        )


def confirm_password_reset(
    *, email: str, code: str, new_password: str, client: ClientInfo = NO_CLIENT
) -> User:
    """Set a new password and sign the user out everywhere. Raises InvalidCode (alike for an
    unknown address) or ValidationError for a weak password."""
    # Judge the password before looking the account up, against the address alone, so the
    # answer is the same whether or not the account exists.
    _validate_password(new_password, user=User(email=email), field="new_password")
    user = _find_user(email)
    if user is None:
        raise InvalidCode()
    account_services.consume_code(user=user, purpose=OneTimeCode.Purpose.PASSWORD_RESET, code=code)
    with transaction.atomic():
        user.set_password(new_password)
        # Receiving the code proves the address, as verification would.
        user.is_email_verified = True
        user.save(update_fields=["password", "is_email_verified"])
        account_services.revoke_all_tokens(user=user)
        account_services.record_activity(
            user=user, action=ActivityLog.Action.PASSWORD_RESET, client=client
        )
        account_services.notify_user(
            user,
            "password_changed",
            key=f"password_changed:{user.pk}:{user.token_version}",
            context={"first_name": user.first_name},
        )
    return user


def request_code(*, user: User, purpose: str, client: ClientInfo = NO_CLIENT) -> None:
    """A code for a signed-in user's sensitive operation (``delete_account``)."""
    account_services.send_code(user=user, purpose=purpose, client=client)


def change_password(
    *, user: User, current_password: str, new_password: str, client: ClientInfo = NO_CLIENT
) -> TokenPair:
    """Change a signed-in user's password: every other session ends, this caller gets a new
    token pair. Raises InvalidCredentials for a wrong current password, ValidationError for a
    weak new one. Wrong current passwords count toward the failed-login limits."""
    limiter = LoginFailureLimiter()
    ip = client.ip
    limiter.begin(email=user.email, ip=ip)
    if not user.check_password(current_password):
        raise InvalidCredentials("The current password is incorrect.")
    limiter.succeeded(email=user.email, ip=ip)
    _validate_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        account_services.revoke_all_tokens(user=user)
        account_services.record_activity(
            user=user, action=ActivityLog.Action.PASSWORD_CHANGED, client=client
        )
        account_services.notify_user(
            user,
            "password_changed",
            key=f"password_changed:{user.pk}:{user.token_version}",
            context={"first_name": user.first_name},
        )
        pair = issue_tokens(user=user)
    return pair
