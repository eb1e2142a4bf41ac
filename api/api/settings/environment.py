"""The one place that reads the process environment (and a git-ignored ``.env`` beside it).

Every other settings module takes ``env`` and the paths from here, so a variable is read in one
place and documented once, in ``.env.example`` at the repository root.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent  # api/
ROOT_DIR = BASE_DIR.parent  # repository root

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (ROOT_DIR / ".env").is_file():
    env.read_env(str(ROOT_DIR / ".env"))

VAR_DIR = Path(env("SUDAMALL_VAR_DIR", default=str(ROOT_DIR / "var")))
LOG_DIR = Path(env("LOG_DIR", default=str(ROOT_DIR / "logs")))

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


def misconfigured(variable: str, problem: str, fix: str) -> ImproperlyConfigured:
    """The error every integration raises at startup when it is switched on but can't work."""
    return ImproperlyConfigured(f"{variable}: {problem} {fix}")
