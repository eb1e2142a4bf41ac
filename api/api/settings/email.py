"""Outgoing email: readable log lines in development, SMTP otherwise (``EMAIL_*``)."""

from api.settings.environment import DEBUG, VAR_DIR, env, misconfigured

# The development backend logs one-time codes: only ever the default with DEBUG on.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="notifications.email_backends.LogEmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
if "." not in EMAIL_BACKEND:
    raise misconfigured(
        "EMAIL_BACKEND",
        f"{EMAIL_BACKEND!r} is not a dotted path.",
        "e.g. django.core.mail.backends.smtp.EmailBackend",
    )
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "emails"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
if EMAIL_HOST_USER and not EMAIL_HOST_PASSWORD:
    raise misconfigured(
        "EMAIL_HOST_USER",
        "is set without EMAIL_HOST_PASSWORD.",
        "SMTP would refuse every message; set both or neither.",
    )
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Sudamall <no-reply@sudamall.local>")
