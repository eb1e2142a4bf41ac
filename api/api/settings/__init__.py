"""Sudamall settings, one module per integration (HackSoft's ``config/django`` layout):
``environment`` reads the process environment, ``base`` holds Django's own settings and imports
``database``, ``redis``, ``celery``, ``channels``, ``auth``, ``payments``, ``email``, ``search``,
``logging`` and ``security``; ``test`` is the suite's.

Two running modes, chosen by the environment only:

* embedded default (nothing set): SQLite in WAL mode, a ``sqla+sqlite`` file broker for a real
  Celery worker and beat, the in-memory channel layer, a local-memory cache;
* real services: ``DATABASE_URL`` (or ``DB_NAME``/``DB_USER``/...) selects MySQL/MariaDB and
  ``REDIS_URL`` selects Redis for the cache, the Celery broker and the channel layer.

Each integration fails at startup, naming the variable and the fix, when it is switched on but
can't work. ``DEBUG`` is off unless asked for; with it off, ``SECRET_KEY`` is required and the
production rules in ``security`` apply, so ``manage.py check --deploy`` passes.

``DJANGO_SETTINGS_MODULE=api.settings`` (the default everywhere) is ``base``. This package loads
it only when a setting is first asked for (PEP 562), so that importing ``api.settings.test``
doesn't read the environment before the test settings have given it their defaults.
"""

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module("api.settings.base"), name)


def __dir__() -> list[str]:
    return dir(importlib.import_module("api.settings.base"))
