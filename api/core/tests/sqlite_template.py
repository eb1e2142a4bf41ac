"""A migrated SQLite template for the in-memory test databases.

Migrating from nothing costs about five seconds per test process (88 migrations, most of them
third-party), paid again by every pytest-xdist worker and every ``make test-fast``. The
template is migrated once per set of migration files, kept under ``var/test-db/`` and copied
into each process's in-memory database with SQLite's online backup — the way Django's own
parallel runner clones SQLite databases. Any change to a migration file, to Django or to the
installed apps builds a new template; MariaDB and file databases are untouched.
"""

import contextlib
import fcntl
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db.backends.sqlite3.creation import DatabaseCreation


def _fingerprint() -> str:
    digest = hashlib.sha256(django.__version__.encode())
    for config in apps.get_app_configs():
        digest.update(config.label.encode())
        folder = Path(config.path) / "migrations"
        for migration in sorted(folder.glob("*.py")):
            digest.update(migration.name.encode())
            digest.update(migration.read_bytes())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time: xdist workers start together."""
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _template(creation: DatabaseCreation) -> Path:
    folder = Path(settings.VAR_DIR) / "test-db"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_fingerprint()}.sqlite3"
    if path.exists():
        return path
    with _locked(path):
        if path.exists():
            return path
        for stale in folder.glob("*.sqlite3*"):
            stale.unlink(missing_ok=True)
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        connection = creation.connection
        connection.close()
        connection.settings_dict["NAME"] = str(building)
        try:
            call_command("migrate", verbosity=0, interactive=False,
                         database=connection.alias, run_syncdb=True)  # fmt: skip
            call_command("createcachetable", database=connection.alias)
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            connection.close()
        os.replace(building, path)
    return path


_original_create_test_db = DatabaseCreation.create_test_db


def _create_test_db(
    self: DatabaseCreation,
    verbosity: int = 1,
    autoclobber: bool = False,
    serialize: bool = True,
    keepdb: bool = False,
) -> Any:
    name = self._get_test_db_name()
    if keepdb or not self.is_in_memory_db(name):
        return _original_create_test_db(self, verbosity, autoclobber, serialize, keepdb)
    template = _template(self)
    self.connection.close()
    settings.DATABASES[self.connection.alias]["NAME"] = name
    self.connection.settings_dict["NAME"] = name
    self.connection.ensure_connection()
    source = sqlite3.connect(f"file:{template}?mode=ro", uri=True)
    try:
        source.backup(self.connection.connection)
    finally:
        source.close()
    if serialize:
        self.connection._test_serialized_contents = self.serialize_db_to_string()
    return name


def install() -> None:
    DatabaseCreation.create_test_db = _create_test_db  # type: ignore[method-assign]
