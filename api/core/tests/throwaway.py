"""Throwaway Redis and MariaDB servers for fault tests: started on a free port in a temporary
folder, stopped and started again at will, never the machine's shared servers."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, *, up: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            listening = sock.connect_ex(("127.0.0.1", port)) == 0
        if listening == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not come {'up' if up else 'down'} in {timeout}s")


class _Server:
    command: list[str]

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.workdir / f"{type(self).__name__}.log").open("ab")
        self.process = subprocess.Popen(
            self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _wait_for_port(self.port, up=True)

    def stop(self) -> None:
        """As an outage: the process is killed, not asked."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        _wait_for_port(self.port, up=False)


class ThrowawayRedis(_Server):
    """No persistence: a restart loses every queued message, as a Redis without AOF does."""

    @property
    def command(self) -> list[str]:  # type: ignore[override]
        return [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
        ]  # fmt: skip

    def url(self, index: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{index}"


class ThrowawayMariaDB(_Server):
    """A fresh data directory with database ``sudamall`` and a passwordless root over TCP."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.datadir = workdir / "mariadb"
        user = os.environ.get("USER") or "root"
        subprocess.run(
            [
                shutil.which("mariadb-install-db") or "mariadb-install-db",
                "--no-defaults", f"--datadir={self.datadir}", f"--user={user}",
                "--auth-root-authentication-method=normal", "--skip-test-db",
            ],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.user = user

    @property
    def command(self) -> list[str]:  # type: ignore[override]
        return [
            shutil.which("mariadbd") or "/usr/sbin/mariadbd",
            "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
            "--bind-address=127.0.0.1", f"--socket={self.workdir / 'mariadb.sock'}",
            f"--user={self.user}", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
            f"--log-error={self.workdir / 'mariadb.err'}",
        ]  # fmt: skip

    def create_database(self, name: str = "sudamall") -> str:
        import MySQLdb

        conn = MySQLdb.connect(host="127.0.0.1", port=self.port, user="root", password="")
        try:
            conn.cursor().execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        finally:
            conn.close()
        return f"mysql://root@127.0.0.1:{self.port}/{name}"


def available(*programs: str) -> bool:
    return all(shutil.which(p) or Path(f"/usr/sbin/{p}").exists() for p in programs)
