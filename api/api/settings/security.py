"""Hosts, origins and the production rules (``check --deploy`` passes with DEBUG off)."""

from urllib.parse import urlsplit

from api.settings.environment import DEBUG, env, misconfigured

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
for _origin in CORS_ALLOWED_ORIGINS:
    _parts = urlsplit(_origin)
    if _parts.scheme not in ("http", "https") or not _parts.netloc or _parts.path not in ("", "/"):
        raise misconfigured(
            "CORS_ALLOWED_ORIGINS",
            f"{_origin!r} is not an origin.",
            "Write scheme://host[:port], e.g. https://shop.example.com",
        )
# API.md: in development any local SPA (Vite, CRA, Expo web...) may call the API and open
# sockets; in production only the listed origins.
CORS_ALLOWED_ORIGIN_REGEXES = (
    [r"^http://localhost(:\d+)?$", r"^http://127\.0\.0\.1(:\d+)?$"] if DEBUG else []
)
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "origin",
    "user-agent",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = ("retry-after", "x-request-id", "idempotent-replayed")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
