"""OpenAPI security schemes for the project's authentication classes."""

from typing import Any

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.permissions import SAFE_METHODS


class JWTScheme(SimpleJWTScheme):
    target_class = "authentication.backends.JWTAuthentication"


class OAuth2Scheme(DjangoOAuthToolkitScheme):
    """Tokens from /o/token/: authorization code (with PKCE) for people, client credentials for
    integrations. Every authenticated operation takes them — ``read`` for safe methods,
    ``write`` for the rest (``backends.OAuth2Authentication`` enforces the same)."""

    target_class = "authentication.backends.OAuth2Authentication"

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        return {self.name: ["read" if auto_schema.method in SAFE_METHODS else "write"]}

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scopes = {"read": "Read your data", "write": "Change your data"}
        return {
            "type": "oauth2",
            "description": "PKCE (S256) is required for the authorization code flow.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/o/authorize/",
                    "tokenUrl": "/o/token/",
                    "refreshUrl": "/o/token/",
                    "scopes": scopes,
                },
                "clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes},
            },
        }
