"""A real Sudamall stack in subprocesses — daphne, Celery worker and beat — for integration tests.

``Stack`` boots the project the way ``make run`` does, on its own database and broker, so tests
can prove what eager mode can't: that a task queued by a web request is run by a real worker.

Modes:
* ``embedded``: a SQLite file and a ``sqla+sqlite`` broker file in a temporary folder;
* ``services``: a fresh database on the MariaDB server of ``DATABASE_URL`` and Redis from
  ``REDIS_URL`` (database indexes 12 and 13 by default, so a developer's running stack is not
  disturbed; ``redis_dbs`` picks others for a second stack running at the same time).

``api_dir`` runs ``manage.py``, daphne and the worker from another copy of ``api/`` (with this
interpreter): ``bench/checkout.py --baseline`` runs an older revision's code beside this one.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import jwt

API_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "integration-secret-key-that-is-at-least-32-bytes-long-0123456789"
ADMIN_EMAIL = "ops@example.com"
ADMIN_PASSWORD = "integration-password-9f3e"


def staff_token() -> str:
    """An access JWT for the stack's only user, the superuser it created (id 1)."""
    return token_for(1)


def token_for(user_id: int) -> str:
    """An access JWT for a user of the stack (made with ``Stack.manage("shell", ...)``)."""
    now = int(time.time())
    claims = {"token_type": "access", "user_id": str(user_id), "iat": now, "exp": now + 600}
    return jwt.encode({**claims, "jti": uuid.uuid4().hex}, SECRET_KEY, algorithm="HS256")


def services_configured() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("mysql") and bool(
        os.environ.get("REDIS_URL")
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    def __init__(
        self,
        mode: str,
        workdir: Path,
        *,
        api_dir: Path = API_DIR,
        redis_dbs: tuple[int, int] = (12, 13),
    ) -> None:
        """``redis_dbs``: the Redis database indexes (services mode) of the broker and the
        channel layer, and of the cache; both are flushed when the stack starts."""
        self.mode = mode
        self.workdir = workdir
        self.api_dir = api_dir
        self.redis_dbs = redis_dbs
        self.ports: list[int] = []
        self.base_url = ""
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.database_name: str | None = None
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        drop = {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "DB_NAME",
            "DJANGO_SETTINGS_MODULE",
        }
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "api.settings",
                "SECRET_KEY": SECRET_KEY,
                "DEBUG": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SECURE_SSL_REDIRECT": "false",
                "STATIC_MANIFEST": "false",
                "LOG_TO_FILE": "false",
                "LOG_FORMAT": "console",
                "SUDAMALL_VAR_DIR": str(self.workdir / "var"),
                "DJANGO_SUPERUSER_EMAIL": ADMIN_EMAIL,
                "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.mode == "services":
            self.database_name = f"sudamall_it_{uuid.uuid4().hex[:10]}"
            db = urlsplit(os.environ["DATABASE_URL"])
            env["DATABASE_URL"] = urlunsplit(db._replace(path=f"/{self.database_name}"))
            redis = urlsplit(os.environ["REDIS_URL"])
            broker, cache = self.redis_dbs
            env["REDIS_URL"] = urlunsplit(redis._replace(path=f"/{broker}"))
            # Said outright, not left to the settings' REDIS_URL + 1 (nor to the caller's
            # environment): the cache must be the database that _flush_redis empties.
            env["REDIS_CACHE_URL"] = urlunsplit(redis._replace(path=f"/{cache}"))
        return env

    def manage(self, *args: str) -> str:
        completed = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.api_dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{completed.stderr[-4000:]}")
        return completed.stdout

    def _create_database(self) -> None:
        import MySQLdb

        db = urlsplit(os.environ["DATABASE_URL"])
        conn = MySQLdb.connect(
            host=db.hostname or "127.0.0.1",
            port=db.port or 3306,
            user=db.username or "root",
            password=db.password or "",
        )
        try:
            conn.cursor().execute(
                f"CREATE DATABASE `{self.database_name}` CHARACTER SET utf8mb4 "
                "COLLATE utf8mb4_unicode_ci"
            )
        finally:
            conn.close()

    def _drop_database(self) -> None:
        import MySQLdb

        db = urlsplit(os.environ["DATABASE_URL"])
        conn = MySQLdb.connect(
            host=db.hostname or "127.0.0.1",
            port=db.port or 3306,
            user=db.username or "root",
            password=db.password or "",
        )
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{self.database_name}`")
        finally:
            conn.close()

    def _flush_redis(self) -> None:
        import redis

        for index in self.redis_dbs:  # broker and channel layer; cache
            url = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{index}"))
            redis.Redis.from_url(url).flushdb()

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            command,
            cwd=self.api_dir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def start(self, *, beat: bool = False, webs: int = 1) -> None:
        if self.mode == "services":
            self._create_database()
            self._flush_redis()
        self.manage("migrate", "--noinput")
        self.manage("createsuperuser", "--noinput")
        celery = str(VENV_BIN / "celery")
        for index in range(webs):
            port = _free_port()
            self.ports.append(port)
            daphne = [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
            self._start(f"web{index + 1}", [*daphne, "api.asgi:application"])
        self.base_url = self.base_urls[0]
        self._start(
            "worker",
            [celery, "-A", "api", "worker", "-l", "info", "--concurrency", "1", "-n", "it@%h"],
        )
        if beat:
            beat_schedule = str(self.workdir / "celerybeat-schedule")
            self._start("beat", [celery, "-A", "api", "beat", "-l", "info", "-s", beat_schedule])
        for url in self.base_urls:
            self.wait_for("/health/", base_url=url)

    def wait_for(self, path: str, timeout: float = 60, base_url: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assert_running()
            try:
                if httpx.get((base_url or self.base_url) + path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"{path} did not answer 200 within {timeout}s\n{self.logs()}")

    def assert_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}\n{self.logs()}")

    def logs(self) -> str:
        parts = []
        for name in self.processes:
            text = (self.workdir / f"{name}.log").read_text(errors="replace")
            parts.append(f"--- {name} ---\n{text[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.mode == "services" and self.database_name:
            self._drop_database()
        shutil.rmtree(self.workdir / "var", ignore_errors=True)


@contextmanager
def running_stack(
    mode: str, workdir: Path, *, beat: bool = False, webs: int = 1, **env: str
) -> Iterator[Stack]:
    """``env`` adds to (or overrides) the stack's environment."""
    stack = Stack(mode, workdir)
    stack.env.update(env)
    try:
        stack.start(beat=beat, webs=webs)
        yield stack
    finally:
        stack.stop()
