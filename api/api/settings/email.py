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

# The public address of this API, for links in emails (newsletter confirm and unsubscribe).
PUBLIC_URL = env("PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")


# Sender identities: each kind sends as one, with its own From and, optionally, its own
# connection options (credentials, host or a whole backend) passed to get_connection() — never
# by changing the global EMAIL_* settings, so identities sending at once can't swap credentials.
# ``EMAIL_IDENTITY_<NAME>_FROM`` / ``_USER`` / ``_PASSWORD`` override one (NAME: NO_REPLY,
# SUPPORT, SECURITY, NEWSLETTER); without them every identity uses the EMAIL_* connection.
def _identity(name: str, default_from: str) -> dict:
    prefix = f"EMAIL_IDENTITY_{name.upper().replace('-', '_')}_"
    options = {}
    user = env(prefix + "USER", default="")
    if user:
        password = env(prefix + "PASSWORD", default="")
        if not password:
            raise misconfigured(prefix + "USER", f"is set without {prefix}PASSWORD.", "Set both.")
        options = {"username": user, "password": password}
    return {"from_email": env(prefix + "FROM", default=default_from), "options": options}


_domain = DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">")
NOTIFICATION_IDENTITIES = {
    "no-reply": _identity("no-reply", DEFAULT_FROM_EMAIL),
    "support": _identity("support", f"Sudamall Support <support@{_domain}>"),
    "security": _identity("security", f"Sudamall Security <security@{_domain}>"),
    "newsletter": _identity("newsletter", f"Sudamall <news@{_domain}>"),
}

# Retries of a failed send: the delay before each (then the dispatch is dead until resent).
EMAIL_RETRY_DELAYS = [30, 120, 600, 3600, 4 * 3600]
# The sweep sends a queued dispatch whose task message never came after this many seconds.
EMAIL_SWEEP_GRACE_SECONDS = 60

# Email providers' delivery, bounce and complaint webhooks (django-anymail): the shared secret
# the provider sends as basic auth, and per-provider signing keys.
ANYMAIL = {
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default="") or None,
    "MAILGUN_WEBHOOK_SIGNING_KEY": env("MAILGUN_WEBHOOK_SIGNING_KEY", default="") or None,
    "RESEND_SIGNING_SECRET": env("RESEND_SIGNING_SECRET", default="") or None,
}
ANYMAIL = {key: value for key, value in ANYMAIL.items() if value}

# django-post-office is the queue's record and log; this project sends it (notifications.tasks).
POST_OFFICE = {"LOG_LEVEL": 2, "MESSAGE_ID_ENABLED": False, "CELERY_ENABLED": False}

# Campaigns: how many emails one batch sends at most (a campaign's rate decides the rest).
CAMPAIGN_BATCH_SIZE = env.int("CAMPAIGN_BATCH_SIZE", default=500)
