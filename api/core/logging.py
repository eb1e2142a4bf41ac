"""Log formatting: readable console lines in development, JSON lines in production and files."""

import contextvars
import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) so every formatter can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs after the middleware has returned; its record carries the request.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, request id and any ``extra``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


# "code" alone (a one-time code), not status_code or error_code.
_SENSITIVE_KEY = re.compile(
    r"pass|secret|token|authorization|cookie|session|^(otp_|one_time_)?codes?$", re.I
)
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
}
REDACTED = "[redacted]"


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and _SENSITIVE_KEY.search(k) else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    return value


class RedactSecretsFilter(logging.Filter):
    """Keeps secrets out of structured log fields.

    Celery logs every task's arguments in the ``data`` field of its trace records (which the
    JSON formatter writes out); our tasks carry one-time codes to the mailer, so task arguments
    are dropped. Any other extra field whose key looks secret is masked.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        if isinstance(data, dict) and ("args" in data or "kwargs" in data):
            record.data = {**data, "args": REDACTED, "kwargs": REDACTED}
        for key, value in list(record.__dict__.items()):
            if key in _STANDARD_ATTRS or key == "data":
                continue
            if _SENSITIVE_KEY.search(key):
                setattr(record, key, REDACTED)
            elif isinstance(value, dict | list | tuple):
                setattr(record, key, _redact(value))
        return True
