"""Logs: readable console lines in development, JSON lines otherwise, plus rotating JSON files
in ``logs/``. Celery's loggers are set explicitly, so worker and beat INFO lines show."""

import logging as _logging

from api.settings.apps import PROJECT_APPS
from api.settings.environment import DEBUG, LOG_DIR, env, misconfigured

LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()
if not isinstance(_logging.getLevelName(LOG_LEVEL), int):
    raise misconfigured("LOG_LEVEL", f"{LOG_LEVEL!r} is not a level.", "DEBUG, INFO, WARNING, …")
LOG_FORMAT = env("LOG_FORMAT", default="console" if DEBUG else "json")
if LOG_FORMAT not in ("console", "json"):
    raise misconfigured("LOG_FORMAT", f"{LOG_FORMAT!r} is neither console nor json.", "")
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
