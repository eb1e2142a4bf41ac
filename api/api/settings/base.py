"""Sudamall settings: the one place that reads the environment.

Two running modes, chosen by environment only:

* embedded default (nothing set): SQLite in WAL mode, a ``sqla+sqlite`` file broker for a real
  Celery worker and beat, the in-memory channel layer, a local-memory cache;
* real services: ``DATABASE_URL`` (or ``DB_NAME``/``DB_USER``/...) selects MySQL/MariaDB and
  ``REDIS_URL`` selects Redis for the cache, the Celery broker and the channel layer.

``DEBUG`` is off unless asked for; with it off, ``SECRET_KEY`` is required and the secure
cookie/HSTS/SSL settings below apply, so ``manage.py check --deploy`` passes.
Every variable is documented in ``.env.example`` at the repository root.
"""

import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent  # api/
ROOT_DIR = BASE_DIR.parent  # repository root

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (ROOT_DIR / ".env").is_file():
    env.read_env(str(ROOT_DIR / ".env"))

VAR_DIR = Path(env("SUDAMALL_VAR_DIR", default=str(ROOT_DIR / "var")))
LOG_DIR = Path(env("LOG_DIR", default=str(ROOT_DIR / "logs")))

# --- Core ---------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="insecure-development-key-change-me-0123456789abcdef")
else:
    try:
        SECRET_KEY = env("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=true for local development)."
        ) from exc

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Ours, lowest layer first (docs/architecture.md has the dependency direction).
PROJECT_APPS = [
    "core",
    "accounts",
    "authentication",
    "stores",
    "products",
    "carts",
    "orders",
    "payments",
    "notifications",
]

INSTALLED_APPS = [
    "daphne",  # must precede staticfiles so `runserver` serves ASGI
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # third party
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    "django_celery_beat",
    "oauth2_provider",
    "rest_framework_simplejwt.token_blacklist",
    "phonenumber_field",
    *PROJECT_APPS,
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "api.urls"
WSGI_APPLICATION = "api.wsgi.application"
ASGI_APPLICATION = "api.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database -----------------------------------------------------------------------------------


def _database() -> dict:
    if env("DATABASE_URL", default=""):
        return env.db_url("DATABASE_URL")
    if env("DB_NAME", default=""):
        # The original README's variables; MySQL/MariaDB only.
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": env("DB_NAME"),
            "USER": env("DB_USER", default="sudamall"),
            "PASSWORD": env("DB_PASSWORD", default=""),
            "HOST": env("DB_HOST", default="127.0.0.1"),
            "PORT": env("DB_PORT", default="3306"),
        }
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "db.sqlite3")}


_db = _database()
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the timeout instead of failing with "database is locked".
    _db.setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
elif _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            # Locking reads see the latest committed row; stock and payment services rely on it.
            "isolation_level": "read committed",
        }
    )
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}

# --- Redis: cache, Celery broker, channel layer --------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")


def _redis_db_url(url: str, offset: int) -> str:
    """The same server with the database index moved by ``offset``.

    The cache lives in its own Redis database so that clearing it (``cache.clear()`` is a
    FLUSHDB) can never drop queued Celery tasks or channel-layer messages.
    """
    parts = urlsplit(url)
    index = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{index + offset}"))


if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("REDIS_CACHE_URL", default=_redis_db_url(REDIS_URL, 1)),
            "KEY_PREFIX": "sudamall",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "sudamall"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # One ASGI process only: events sent from a Celery worker need the Redis layer.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery -------------------------------------------------------------------------------------

CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL", default=REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
if CELERY_BROKER_URL.startswith("sqla+sqlite"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Unacknowledged messages return to the queue after this; longer than any ETA we schedule.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True  # tasks report through the database, not a result backend
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Declared here, written into django-celery-beat's tables by the scheduler when beat starts.
CELERY_BEAT_SCHEDULE = {
    "purge-expired-idempotency-keys": {
        "task": "core.tasks.purge_expired_idempotency_keys",
        "schedule": crontab(minute="17"),
    },
    # The payment window's safety net: expiry tasks run at each deadline, this catches the rest.
    "expire-due-checkouts": {
        "task": "orders.tasks.expire_due_checkouts_task",
        "schedule": 60.0,
    },
    # Open payments past their window, and webhook events a lost message left behind.
    "payments-sweep": {
        "task": "payments.tasks.payments_sweep_task",
        "schedule": 60.0,
    },
}

# --- Channels -----------------------------------------------------------------------------------
# (layer chosen with Redis above)

# --- REST framework and OpenAPI -----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "authentication.backends.JWTAuthentication",
        "authentication.backends.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON in; the few endpoints that take a file opt into multipart.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON_RATE", default="120/min"),
        "user": env("THROTTLE_USER_RATE", default="600/min"),
        # Per client IP, on the authentication endpoints.
        "login": env("THROTTLE_LOGIN_RATE", default="30/min"),
        "register": env("THROTTLE_REGISTER_RATE", default="10/hour"),
        "code_request": env("THROTTLE_CODE_REQUEST_RATE", default="20/hour"),
        "code_verify": env("THROTTLE_CODE_VERIFY_RATE", default="30/min"),
        # Per email address, whoever asks.
        "code_request_email": env("THROTTLE_CODE_REQUEST_EMAIL_RATE", default="5/hour"),
    },
    # Proxies in front of the app whose X-Forwarded-For can be trusted. 0: the client address
    # is the socket's, so a client can't pick its own IP for the throttles.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Sudamall API",
    "DESCRIPTION": (
        "Marketplace backend: stores, catalog, carts, checkout with a payment window, payments "
        "and real-time events. Every error has the shape `{code, message, details}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "CheckoutStatusEnum": "orders.models.Checkout.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "RefundStatusEnum": "payments.models.Refund.Status",
        "PaymentGatewayEnum": "payments.models.Gateway",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.add_error_responses",
    ],
}

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
}
LOGIN_URL = "/admin/login/"  # the OAuth2 consent page signs people in through the admin form

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

PHONENUMBER_DEFAULT_REGION = "SD"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"

IMAGE_MAX_BYTES = 2 * 1024 * 1024  # avatars and product images
IMAGE_MAX_PIXELS = 4096 * 4096  # checked from the header, before decoding
AVATAR_SIZE = 512  # stored avatars are re-encoded to at most this many pixels a side
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
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

# --- Project settings ---------------------------------------------------------------------------

DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", default="SDG")
PAYMENT_WINDOW_MINUTES = env.int("PAYMENT_WINDOW_MINUTES", default=15)

# Payments (docs/payments.md). Each gateway: its class, and its fee (fixed, percent).
PAYMENT_GATEWAYS = {
    "test": "payments.gateways.test.TestGateway",
    "stripe": "payments.gateways.stripe.StripeGateway",
    "paypal": "payments.gateways.paypal.PayPalGateway",
    "cash_on_delivery": "payments.gateways.cash.CashOnDeliveryGateway",
}
PAYMENT_GATEWAY_FEES = {
    "test": (env("PAYMENT_TEST_FEE_FIXED", default="0.30"),
             env("PAYMENT_TEST_FEE_PERCENT", default="2.9")),
    "stripe": (env("STRIPE_FEE_FIXED", default="0.30"),
               env("STRIPE_FEE_PERCENT", default="2.9")),
    "paypal": (env("PAYPAL_FEE_FIXED", default="0.49"),
               env("PAYPAL_FEE_PERCENT", default="3.49")),
    "cash_on_delivery": (env("CASH_ON_DELIVERY_FEE_FIXED", default="0"),
                         env("CASH_ON_DELIVERY_FEE_PERCENT", default="0")),
}  # fmt: skip
# The test gateway takes no money: on for development, off in production unless asked for.
PAYMENT_TEST_GATEWAY_ENABLED = env.bool("PAYMENT_TEST_GATEWAY_ENABLED", default=DEBUG)
PAYMENT_TEST_WEBHOOK_SECRET = env(
    "PAYMENT_TEST_WEBHOOK_SECRET", default="sudamall-development-webhook-secret" if DEBUG else ""
)
PAYMENT_CASH_ON_DELIVERY_ENABLED = env.bool("PAYMENT_CASH_ON_DELIVERY_ENABLED", default=True)
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_VERSION = env("STRIPE_API_VERSION", default="")  # empty: the SDK's pinned version
STRIPE_RETURN_URL = env("STRIPE_RETURN_URL", default="")
PAYPAL_CLIENT_ID = env("PAYPAL_CLIENT_ID", default="")
PAYPAL_CLIENT_SECRET = env("PAYPAL_CLIENT_SECRET", default="")
PAYPAL_WEBHOOK_ID = env("PAYPAL_WEBHOOK_ID", default="")
PAYPAL_API_BASE = env(
    "PAYPAL_API_BASE",
    default="https://api-m.paypal.com"
    if env("PAYPAL_MODE", default="sandbox") == "live"
    else "https://api-m.sandbox.paypal.com",
)
PAYPAL_RETURN_URL = env("PAYPAL_RETURN_URL", default="http://localhost:3000/checkout/paypal/return")
PAYPAL_CANCEL_URL = env("PAYPAL_CANCEL_URL", default="http://localhost:3000/checkout/paypal/cancel")
# Webhook processing tries before an event becomes a dead letter; refund tries at the provider.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
REFUND_MAX_ATTEMPTS = env.int("REFUND_MAX_ATTEMPTS", default=8)
# Starts every idempotency key and request id sent to providers. Unique per deployment (derived
# from SECRET_KEY by default), so two environments sharing a Stripe or PayPal account, or a
# restored database, never get each other's stored answers back.
PAYMENT_KEY_PREFIX = env(
    "PAYMENT_KEY_PREFIX", default="sm" + hashlib.sha256(SECRET_KEY.encode()).hexdigest()[:10]
)

IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))
# A key still "in progress" after this long belongs to a request that died; a retry may take it.
IDEMPOTENCY_LOCK_TIMEOUT = timedelta(seconds=env.int("IDEMPOTENCY_LOCK_SECONDS", default=120))
READINESS_TIMEOUT_SECONDS = env.float("READINESS_TIMEOUT_SECONDS", default=2.0)
ELASTICSEARCH_URL = env("ELASTICSEARCH_URL", default="")

# --- Static and media files ---------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve straight from the apps' static folders when `collectstatic` has not run (development).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)

# --- Email --------------------------------------------------------------------------------------

# The console backend prints one-time codes: only ever the default in development.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "emails"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Sudamall <no-reply@sudamall.local>")

# --- Security (production) ----------------------------------------------------------------------

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

# --- Logging ------------------------------------------------------------------------------------

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="console" if DEBUG else "json")
LOG_TO_FILE = env.bool("LOG_TO_FILE", default=True)
if LOG_TO_FILE:
    LOG_DIR.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logging.RequestIdFilter"},
        "redact": {"()": "core.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "console": {
            "format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact"],
        },
        **(
            {
                "file": {
                    "class": "logging.handlers.RotatingFileHandler",
                    "filename": str(LOG_DIR / "sudamall.log"),
                    "maxBytes": 10 * 1024 * 1024,
                    "backupCount": 5,
                    "formatter": "json",
                    "filters": ["request_id", "redact"],
                    "delay": True,
                }
            }
            if LOG_TO_FILE
            else {}
        ),
    },
    "root": {"handlers": ["console", *(["file"] if LOG_TO_FILE else [])], "level": "WARNING"},
    "loggers": {
        "django": {"level": "INFO", "propagate": True},
        "django.server": {"level": "INFO", "propagate": True},
        "celery": {"level": LOG_LEVEL, "propagate": True},
        "celery.task": {"level": LOG_LEVEL, "propagate": True},
        "celery.worker": {"level": LOG_LEVEL, "propagate": True},
        "celery.beat": {"level": LOG_LEVEL, "propagate": True},
        "daphne": {"level": "INFO", "propagate": True},
        **{app: {"level": LOG_LEVEL, "propagate": True} for app in ("api", *PROJECT_APPS)},
    },
}

CSRF_FAILURE_VIEW = "core.apis.csrf_failure"
TEST_RUNNER = "core.test_runner.PytestTestRunner"
