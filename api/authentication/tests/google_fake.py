"""A local stand-in for Google's side of sign-in: an RSA key whose X.509 certificate is served at
Google's real certificate URL through the verifier's HTTP client, and ID tokens signed with it in
Google's format. The real google-auth verification code runs against them."""

import functools
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
CLIENT_ID = "sudamall-test.apps.googleusercontent.com"


@functools.cache  # one key per test process: RSA generation costs ~0.1 s
def _key_and_cert() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.gserviceaccount.com")]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


def another_key() -> rsa.RSAPrivateKey:
    """A key Google never published: what a forger would sign with."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeGoogle:
    def __init__(self) -> None:
        self.key, self.cert = _key_and_cert()
        self.kid = "test-key-1"
        self.requests: list[str] = []
        self.client = httpx.Client(transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if str(request.url) == CERTS_URL:
            return httpx.Response(
                200,
                content=json.dumps({self.kid: self.cert}).encode(),
                headers={
                    "Cache-Control": "public, max-age=19000",
                    "Content-Type": "application/json",
                },
            )
        return httpx.Response(404)

    def id_token(self, *, key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "https://accounts.google.com",
            "azp": CLIENT_ID,
            "aud": CLIENT_ID,
            "sub": "110169484474386276334",
            "email": "fatima.ali@gmail.com",
            "email_verified": True,
            "given_name": "Fatima",
            "family_name": "Ali",
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})
