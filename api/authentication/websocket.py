"""The token check behind every WebSocket handshake (``WEBSOCKET_TOKEN_AUTHENTICATOR``)."""

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from authentication import sessions
from authentication.services import SESSION_CLAIM, TOKEN_VERSION_CLAIM
from core.websocket import SocketIdentity


def identify(token: str) -> SocketIdentity | None:
    """The active user an access JWT stands for, or None: a bad signature, an expired token, one
    revoked since (a password change bumps the user's ``token_version``) or one of a sign-in
    session that ended (signed out; a refresh token of it reused). The database decides, not
    the cache: a socket may stay open for a long time."""
    try:
        access = AccessToken(token)  # type: ignore[arg-type]
    except TokenError:
        return None
    user = User.objects.filter(pk=access.get("user_id"), is_active=True).only("token_version")
    found = user.first()
    if found is None or access.get(TOKEN_VERSION_CLAIM, 0) != found.token_version:
        return None
    session = access.get(SESSION_CLAIM) or ""
    if not sessions.is_live(session):
        return None
    return SocketIdentity(user_id=found.pk, session=str(session), expires_at=float(access["exp"]))
