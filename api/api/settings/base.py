"""All of Sudamall's settings: Django itself here, then one module per integration (database,
Redis, Celery, channels, auth, payments, email, search, logging, security), imported at the
bottom. ``api.settings`` and ``api.settings.test`` both load this module."""

from datetime import timedelta
from pathlib import Path

from api.settings.apps import INSTALLED_APPS, PROJECT_APPS  # noqa: F401
from api.settings.environment import *  # noqa: F403
from api.settings.environment import BASE_DIR, DEBUG, VAR_DIR, env

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.middleware.MetricsMiddleware",
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
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # The user rate per signed-in user, else the anon rate per IP: one cache round trip.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttles.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON_RATE", default="120/min"),
        "user": env("THROTTLE_USER_RATE", default="600/min"),
        # Per client IP, on the authentication endpoints.
        "login": env("THROTTLE_LOGIN_RATE", default="30/min"),
        # Per client IP: search suggestions, asked at each keystroke.
        "suggest": env("THROTTLE_SUGGEST_RATE", default="600/min"),
        "register": env("THROTTLE_REGISTER_RATE", default="10/hour"),
        "code_request": env("THROTTLE_CODE_REQUEST_RATE", default="20/hour"),
        "code_verify": env("THROTTLE_CODE_VERIFY_RATE", default="30/min"),
        # Per email address, whoever asks.
        "code_request_email": env("THROTTLE_CODE_REQUEST_EMAIL_RATE", default="5/hour"),
        # Newsletter sign-ups: per client IP, and per address (confirmation emails to it).
        "newsletter": env("THROTTLE_NEWSLETTER_RATE", default="10/hour"),
        "newsletter_email": env("THROTTLE_NEWSLETTER_EMAIL_RATE", default="3/hour"),
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
        "LanguageEnum": "notifications.models.Language",
        "AssetKindEnum": "notifications.models.Asset.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.add_error_responses",
        "core.openapi.tidy_for_clients",
    ],
}

# --- Phone numbers, images, uploads -------------------------------------------------------------

PHONENUMBER_DEFAULT_REGION = "SD"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"

IMAGE_MAX_BYTES = 2 * 1024 * 1024  # avatars and product images
IMAGE_MAX_PIXELS = 4096 * 4096  # checked from the header, before decoding
AVATAR_SIZE = 512  # stored avatars are re-encoded to at most this many pixels a side
# A JSON (or form) body; file uploads are bounded by WEB_MAX_BODY_BYTES and IMAGE_MAX_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- Project rules ------------------------------------------------------------------------------

IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))
# A key still "in progress" after this long belongs to a request that died; a retry may take it.
IDEMPOTENCY_LOCK_TIMEOUT = timedelta(seconds=env.int("IDEMPOTENCY_LOCK_SECONDS", default=120))
READINESS_TIMEOUT_SECONDS = env.float("READINESS_TIMEOUT_SECONDS", default=2.0)

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

CSRF_FAILURE_VIEW = "core.apis.csrf_failure"
TEST_RUNNER = "core.test_runner.PytestTestRunner"

# --- Integrations, each failing at startup when switched on but unable to work ----------------

from api.settings.auth import *  # noqa: E402, F403
from api.settings.celery import *  # noqa: E402, F403
from api.settings.channels import *  # noqa: E402, F403
from api.settings.chat import *  # noqa: E402, F403
from api.settings.database import *  # noqa: E402, F403
from api.settings.email import *  # noqa: E402, F403
from api.settings.limits import *  # noqa: E402, F403
from api.settings.logging import *  # noqa: E402, F403
from api.settings.payments import *  # noqa: E402, F403
from api.settings.redis import *  # noqa: E402, F403
from api.settings.search import *  # noqa: E402, F403
from api.settings.security import *  # noqa: E402, F403
from api.settings.web import *  # noqa: E402, F403
