"""The running modes come from the environment alone: each case boots settings in a new process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

API_DIR = Path(__file__).resolve().parents[2]
LONG_KEY = "Zk8#pQ2!vL9@xW4$rT6^yN1&mB3*hJ7(cF5)gD0_sA-eU+iO=9vX"


pytestmark = pytest.mark.slow  # each case boots settings in a new process


def clean_env() -> dict[str, str]:
    """Only what a process needs to run: no inherited Sudamall settings."""
    return {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}


def with_python_path(tmp_path: Path, *, mysql_driver: bool) -> str:
    """A PYTHONPATH on which the MySQL driver is importable or not, whatever this venv holds:
    the embedded default's venv has none (it needs no C toolchain), the services tier's has one.
    Settings only look the driver up; a stand-in package is enough for them."""
    extra = tmp_path / ("with-mysqldb" if mysql_driver else "without-mysqldb")
    extra.mkdir(exist_ok=True)
    if mysql_driver:
        (extra / "MySQLdb").mkdir(exist_ok=True)
        (extra / "MySQLdb" / "__init__.py").write_text("")
    else:  # a None entry makes importlib.util.find_spec report the module missing
        (extra / "sitecustomize.py").write_text("import sys\nsys.modules['MySQLdb'] = None\n")
    return f"{extra}{os.pathsep}{API_DIR}"


def settings_in_fresh_process(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    script = (
        "import json; from django.conf import settings as s;"
        "print(json.dumps({'db': s.DATABASES['default'], 'cache': s.CACHES['default']['BACKEND'],"
        "'cache_location': s.CACHES['default'].get('LOCATION'), 'broker': s.CELERY_BROKER_URL,"
        "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'debug': s.DEBUG,"
        "'hsts': getattr(s, 'SECURE_HSTS_SECONDS', 0), 'email': s.EMAIL_BACKEND},"
        " default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,  # no .env here
        env={
            **clean_env(),
            "PYTHONPATH": str(API_DIR),
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "DJANGO_SETTINGS_MODULE": "api.settings",
            "SUDAMALL_VAR_DIR": str(tmp_path / "var"),
            "LOG_TO_FILE": "false",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def loaded(completed: subprocess.CompletedProcess) -> dict:
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_embedded_default_needs_no_services(tmp_path: Path):
    s = loaded(settings_in_fresh_process(tmp_path, DEBUG="true"))

    assert s["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["db"]["OPTIONS"]["init_command"] == "PRAGMA journal_mode=WAL;"
    assert s["db"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert s["broker"].startswith("sqla+sqlite:///")
    assert s["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"


def test_real_services_from_database_url_and_redis_url(tmp_path: Path):
    s = loaded(
        settings_in_fresh_process(
            tmp_path,
            DEBUG="true",
            DATABASE_URL="mysql://shop:pw@db.internal:3306/sudamall",
            REDIS_URL="redis://cache.internal:6379/2",
            PYTHONPATH=with_python_path(tmp_path, mysql_driver=True),
        )
    )

    assert s["db"]["ENGINE"] == "django.db.backends.mysql"
    assert (s["db"]["HOST"], s["db"]["NAME"]) == ("db.internal", "sudamall")
    assert s["db"]["USER"] == "shop"
    assert s["db"]["OPTIONS"]["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in s["db"]["OPTIONS"]["init_command"]
    assert s["broker"] == "redis://cache.internal:6379/2"
    assert s["cache"] == "core.cache.FailSoftRedisCache"
    # The cache sits in the next database so a cache clear never drops queued tasks.
    assert s["cache_location"] == "redis://cache.internal:6379/3"
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"


def test_original_readme_db_variables_select_mysql(tmp_path: Path):
    s = loaded(
        settings_in_fresh_process(
            tmp_path,
            DEBUG="true",
            DB_NAME="sudamall_db",
            DB_USER="api",
            DB_PASSWORD="pw",
            DB_HOST="mysql",
            DB_PORT="3307",
            PYTHONPATH=with_python_path(tmp_path, mysql_driver=True),
        )
    )

    assert s["db"]["ENGINE"] == "django.db.backends.mysql"
    assert (s["db"]["NAME"], s["db"]["USER"], s["db"]["HOST"], s["db"]["PORT"]) == (
        "sudamall_db",
        "api",
        "mysql",
        "3307",
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path):
    completed = settings_in_fresh_process(tmp_path)  # DEBUG off by default

    assert completed.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in completed.stderr


def test_production_turns_on_hsts(tmp_path: Path):
    s = loaded(settings_in_fresh_process(tmp_path, SECRET_KEY=LONG_KEY, ALLOWED_HOSTS="x.example"))

    assert s["debug"] is False
    assert s["hsts"] >= 31536000
    # Never the console backend in production: it would print one-time codes to the logs.
    assert s["email"] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize("debug", ["false", "true"])
def test_check_deploy_is_clean_only_with_production_settings(tmp_path: Path, debug: str):
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=API_DIR,
        env={
            **clean_env(),
            "DJANGO_SETTINGS_MODULE": "api.settings",
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "DEBUG": debug,
            "SECRET_KEY": LONG_KEY,
            "ALLOWED_HOSTS": "shop.example.com",
            "SUDAMALL_VAR_DIR": str(tmp_path / "var"),
            "LOG_TO_FILE": "false",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    if debug == "false":
        assert completed.returncode == 0, completed.stderr
    else:
        assert completed.returncode != 0
        assert "security.W018" in completed.stderr  # DEBUG on in deployment


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "postgres://u:p@db/x"}, "DATABASE_URL: django.db.backends.postgresql"),
        ({"REDIS_URL": "http://cache:6379/0"}, "REDIS_URL: http:// is not Redis"),
        ({"CELERY_BROKER_URL": "sqs://queue"}, "CELERY_BROKER_URL: sqs://"),
        ({"STRIPE_SECRET_KEY": "pk_live_123"}, "STRIPE_SECRET_KEY: is not a Stripe secret key"),
        ({"PAYPAL_CLIENT_ID": "abc"}, "PAYPAL_CLIENT_ID: PayPal needs both"),
        ({"PAYPAL_MODE": "production"}, "PAYPAL_MODE: 'production' is neither"),
        ({"EMAIL_HOST_USER": "mailer"}, "EMAIL_HOST_USER: is set without EMAIL_HOST_PASSWORD"),
        ({"ELASTICSEARCH_URL": "es-host:9200"}, "ELASTICSEARCH_URL: is not an http(s) URL"),
        ({"CORS_ALLOWED_ORIGINS": "shop.example.com"}, "CORS_ALLOWED_ORIGINS: 'shop.example.com'"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: 'xml' is neither console nor json"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL: 'LOUD' is not a level"),
    ],
)
def test_an_integration_switched_on_but_unusable_stops_the_start(tmp_path: Path, env, says):
    completed = settings_in_fresh_process(tmp_path, DEBUG="true", **env)

    assert completed.returncode != 0
    assert "ImproperlyConfigured" in completed.stderr
    assert says in completed.stderr


@pytest.mark.parametrize(
    "env", [{"DATABASE_URL": "mysql://shop:pw@db.internal:3306/sudamall"}, {"DB_NAME": "shop"}]
)
def test_mysql_without_its_driver_says_what_to_install(tmp_path: Path, env):
    completed = settings_in_fresh_process(
        tmp_path, DEBUG="true", PYTHONPATH=with_python_path(tmp_path, mysql_driver=False), **env
    )

    assert completed.returncode != 0
    assert "mysqlclient is missing" in completed.stderr
    assert "apt-get install libmariadb-dev pkg-config build-essential" in completed.stderr
    assert "requirements/mysql.txt" in completed.stderr


def test_empty_variables_count_as_unset(tmp_path: Path):
    """The Makefile's test targets blank the service variables to force the embedded default."""
    s = loaded(
        settings_in_fresh_process(
            tmp_path, DEBUG="true", DATABASE_URL="", REDIS_URL="", CELERY_BROKER_URL=""
        )
    )

    assert s["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["broker"].startswith("sqla+sqlite:///")


@pytest.mark.parametrize(
    ("debug", "origin", "allowed"),
    [
        ("true", "http://localhost:3000", True),
        ("true", "http://127.0.0.1:5173", True),
        ("true", "http://localhost", True),
        ("true", "https://localhost.evil.com", False),
        ("true", "http://192.168.1.5:3000", False),
        ("false", "http://localhost:3000", False),
    ],
)
def test_local_spas_may_call_the_api_only_in_development(tmp_path: Path, debug, origin, allowed):
    script = (
        "import re, sys; from django.conf import settings as s;"
        f"print(any(re.match(p, {origin!r}) for p in s.CORS_ALLOWED_ORIGIN_REGEXES)"
        f" or {origin!r} in s.CORS_ALLOWED_ORIGINS)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={
            **clean_env(),
            "PYTHONPATH": str(API_DIR),
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "DJANGO_SETTINGS_MODULE": "api.settings",
            "SUDAMALL_VAR_DIR": str(tmp_path / "var"),
            "LOG_TO_FILE": "false",
            "DEBUG": debug,
            "SECRET_KEY": LONG_KEY,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == str(allowed)


def test_the_readmes_manage_py_test_works_without_the_venv_activated(tmp_path: Path):
    """A Python without Django (the system's, no venv activated) hands over to .venv."""
    bare = next(
        (p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if Path(p).exists()), None
    )
    if (
        bare is None
        or subprocess.run([bare, "-c", "import django"], capture_output=True).returncode == 0
    ):
        pytest.skip("no Python without Django on this machine")

    completed = subprocess.run(
        [bare, "manage.py", "help", "migrate"],
        cwd=API_DIR,
        env={
            **clean_env(),
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "DEBUG": "true",
            "SUDAMALL_VAR_DIR": str(tmp_path / "var"),
            "LOG_TO_FILE": "false",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert "Updates database schema" in completed.stdout
