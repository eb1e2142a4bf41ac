"""DRF authentication: Sudamall JWTs and OAuth2 access tokens, both as ``Bearer`` tokens."""

from typing import Any

from oauth2_provider.contrib.rest_framework import (
    OAuth2Authentication as _OAuth2Authentication,
)
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import (
    JWTAuthentication as _JWTAuthentication,
)
from rest_framework_simplejwt.tokens import Token

from accounts.models import User
from authentication import sessions


class JWTAuthentication(_JWTAuthentication):
    """simplejwt's authentication, plus: tokens die with the user's ``token_version`` (password
    reset, account deletion) and with their sign-in session (signed out, a refresh token
    reused: one cache read), and a bearer token that isn't a JWT is left to OAuth2."""

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None or raw_token.count(b".") != 2:
            return None
        return super().authenticate(request)

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        user = super().get_user(validated_token)
        assert isinstance(user, User)
        if validated_token.get("ver", 0) != user.token_version or sessions.is_revoked_cached(
            validated_token.get("sid")
        ):
            raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")
        return user


class OAuth2Authentication(_OAuth2Authentication):
    """OAuth2 access tokens from ``/o/token/``.

    Scopes gate methods on every endpoint: ``read`` for safe methods, ``write`` for the rest. A
    client-credentials token acts as the user who owns the application.

    A token is taken from the ``Authorization: Bearer`` header only (API.md), never from an
    ``access_token`` in the URL or the body, where it would end up in access logs and browser
    history. A request without that header isn't handed to oauthlib at all: most requests are
    anonymous catalogue reads, and parsing each into an oauthlib request cost more than
    answering some of them.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("bearer "):
            return None
        result = super().authenticate(request)
        if result is None:  # neither a valid JWT nor a live OAuth2 token
            raise exceptions.AuthenticationFailed(
                "The token is invalid or expired.", code="token_not_valid"
            )
        user, token = result
        if user is None:
            user = token.application.user if token.application_id else None
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("This token acts for no active user.")
        needed = "read" if request.method in SAFE_METHODS else "write"
        if not token.allow_scopes([needed]):
            raise exceptions.PermissionDenied(f"This token lacks the '{needed}' scope.")
        return user, token
