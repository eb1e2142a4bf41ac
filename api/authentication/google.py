"""Google ID-token verification at the client boundary.

The real google-auth verifier checks the RS256 signature against Google's published
certificates, the audience (one of ``GOOGLE_CLIENT_IDS``), the issuer and the expiry. Its HTTP
fetch of the certificates goes through ``http_client`` (httpx), cached per the response's
``Cache-Control`` — the one seam tests replace, serving certificates of a locally generated key.
"""

import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from google.auth import exceptions as google_exceptions
from google.auth import transport
from google.oauth2 import id_token as google_id_token

from authentication.exceptions import (
    GoogleEmailNotVerified,
    GoogleSignInUnavailable,
    InvalidGoogleToken,
)

logger = logging.getLogger(__name__)

CERTS_CACHE_KEY = "google:oauth2-certs"
_MAX_AGE = re.compile(r"max-age=(\d+)")

http_client = httpx.Client(timeout=5.0)


class _Response(transport.Response):
    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self._status, self._headers, self._data = status, dict(headers), data

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    @property
    def data(self) -> bytes:
        return self._data


class _HttpxRequest(transport.Request):
    """google-auth's transport interface over httpx, caching successful GETs (the certs)."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        if method == "GET":
            cached = cache.get(CERTS_CACHE_KEY)
            if cached is not None and cached["url"] == url:
                return _Response(200, {}, cached["data"])
        try:
            response = http_client.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise google_exceptions.TransportError(str(exc)) from exc
        if method == "GET" and response.status_code == 200:
            match = _MAX_AGE.search(response.headers.get("cache-control", ""))
            max_age = int(match.group(1)) if match else 3600
            cache.set(CERTS_CACHE_KEY, {"url": url, "data": response.content}, timeout=max_age)
        return _Response(response.status_code, response.headers, response.content)


def verify_id_token(token: str) -> dict[str, Any]:
    """The token's claims if Google issued it for one of our clients and verified the email.

    Raises InvalidGoogleToken, GoogleEmailNotVerified, GoogleSignInUnavailable.
    """
    audiences = list(settings.GOOGLE_CLIENT_IDS)
    if not audiences:
        logger.warning("Google sign-in attempted but GOOGLE_CLIENT_IDS is not set")
        raise GoogleSignInUnavailable()
    try:
        claims = google_id_token.verify_oauth2_token(
            token, _HttpxRequest(), audience=audiences, clock_skew_in_seconds=10
        )
    except google_exceptions.TransportError as exc:
        logger.warning("could not fetch Google's certificates: %s", type(exc).__name__)
        raise GoogleSignInUnavailable() from exc
    except (ValueError, google_exceptions.GoogleAuthError) as exc:
        # Wrong signature, audience, issuer, expired, or not a JWT at all.
        logger.info("Google ID token refused: %s", type(exc).__name__)
        raise InvalidGoogleToken() from exc
    if claims.get("email_verified") is not True or not claims.get("email"):
        raise GoogleEmailNotVerified()
    return dict(claims)
