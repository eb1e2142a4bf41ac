"""The database: a SQLite file by default, MySQL/MariaDB from ``DATABASE_URL`` or the original
README's ``DB_*`` variables."""

import importlib.util

from api.settings.environment import VAR_DIR, env, misconfigured

SQLITE = "django.db.backends.sqlite3"
MYSQL = "django.db.backends.mysql"
MYSQL_DRIVER_FIX = (
    "Install the MySQL driver of the real-services tier: on Debian `apt-get install "
    "libmariadb-dev pkg-config build-essential`, then `.venv/bin/pip install -r "
    "requirements/mysql.txt` (`make install-services` does both checks for you)."
)


def _database() -> dict:
    if env("DATABASE_URL", default=""):
        try:
            config = env.db_url("DATABASE_URL")
        except Exception as exc:  # environ raises several types for a malformed URL
            raise misconfigured(
                "DATABASE_URL", f"can't be read ({exc}).", "Use mysql://user:pass@host:3306/name."
            ) from exc
    elif env("DB_NAME", default=""):
        config = {
            "ENGINE": MYSQL,
            "NAME": env("DB_NAME"),
            "USER": env("DB_USER", default="sudamall"),
            "PASSWORD": env("DB_PASSWORD", default=""),
            "HOST": env("DB_HOST", default="127.0.0.1"),
            "PORT": env("DB_PORT", default="3306"),
        }
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        config = {"ENGINE": SQLITE, "NAME": str(VAR_DIR / "db.sqlite3")}
    if config["ENGINE"] not in (SQLITE, MYSQL):
        raise misconfigured(
            "DATABASE_URL",
            f"{config['ENGINE']} is not a database Sudamall runs on.",
            "Use mysql://… (MySQL/MariaDB) or leave it unset for SQLite.",
        )
    if config["ENGINE"] == MYSQL and importlib.util.find_spec("MySQLdb") is None:
        raise misconfigured(
            "DATABASE_URL", "selects MySQL/MariaDB, but mysqlclient is missing.", MYSQL_DRIVER_FIX
        )
    return config


_db = _database()
if _db["ENGINE"] == SQLITE:
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the timeout instead of failing with "database is locked".
    _db.setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    _db.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "connect_timeout": 5,  # a database that is down answers 503 in seconds, not minutes
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            # Locking reads see the latest committed row; stock and payment services rely on it.
            "isolation_level": "read committed",
        }
    )
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
_db["CONN_HEALTH_CHECKS"] = True
_db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=300)
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
