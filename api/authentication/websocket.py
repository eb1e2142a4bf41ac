"""The token check behind every WebSocket handshake (``WEBSOCKET_TOKEN_AUTHENTICATOR``)."""

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User


def user_id_for_token(token: str) -> int | None:
    """The active user an access JWT stands for, or None: a bad signature, an expired token, or
    one revoked since (a password change bumps the user's ``token_version``)."""
    try:
        access = AccessToken(token)  # type: ignore[arg-type]
    except TokenError:
        return None
    user = User.objects.filter(pk=access.get("user_id"), is_active=True).only("token_version")
    found = user.first()
    if found is None or access.get("ver", 0) != found.token_version:
        return None
    return found.pk
