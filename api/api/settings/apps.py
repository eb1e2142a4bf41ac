"""The installed apps, ours lowest layer first (docs/architecture.md has the direction)."""

PROJECT_APPS = [
    "core",
    "notifications",
    "search",
    "accounts",
    "stores",
    "authentication",
    "products",
    "carts",
    "orders",
    "payments",
    "chat",
    "ops",
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
    "post_office",
    "anymail",
    *PROJECT_APPS,
]
