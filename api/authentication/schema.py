"""OpenAPI security schemes for the project's authentication classes."""

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class JWTScheme(SimpleJWTScheme):
    target_class = "authentication.backends.JWTAuthentication"


class OAuth2Scheme(DjangoOAuthToolkitScheme):
    target_class = "authentication.backends.OAuth2Authentication"
