"""Sign-in: JWT lifetimes, the OAuth2 provider, one-time codes, login limits, Google."""

from datetime import timedelta

from api.settings.environment import DEBUG, SECRET_KEY, env

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": SECRET_KEY,
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

# OAuth2 provider at /o/: authorization code (PKCE required) and client credentials.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "read": "Read your data",
        "write": "Change your data",
        "introspection": "Introspect tokens",
    },
    "DEFAULT_SCOPES": ["read"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 60 * 60 * 24 * 14,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # https redirect URIs only, except in development (loopback callbacks).
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"] if DEBUG else ["https"],
    # RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant, S256 PKCE only, tokens
    # only in the Authorization header, `iss` in authorization responses, hashed token storage.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": not DEBUG,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # Offers only the grants that work here (authorization code, client credentials).
    "APPLICATION_ADMIN_CLASS": "authentication.admin.ApplicationAdmin",
}
# /o/authorize/ sends people who aren't signed in here: any verified user, not only staff.
LOGIN_URL = "/o/sign-in/"

# One-time codes (email verification, password reset, account deletion, email change).
OTP_TTL = timedelta(minutes=env.int("OTP_TTL_MINUTES", default=10))
OTP_MAX_ATTEMPTS = 5  # wrong tries per code
# Wrong tries per user and purpose across codes: new codes don't buy new guesses.
OTP_MAX_FAILURES_PER_WINDOW = 10
OTP_FAILURE_WINDOW = timedelta(hours=1)
# Failed logins per email address and per client IP within LOGIN_FAILURE_WINDOW.
LOGIN_FAILURES_PER_EMAIL = env.int("LOGIN_FAILURES_PER_EMAIL", default=5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=20)
LOGIN_FAILURE_WINDOW = timedelta(minutes=env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=15))

GOOGLE_CLIENT_IDS = env.list("GOOGLE_CLIENT_IDS", default=[])
