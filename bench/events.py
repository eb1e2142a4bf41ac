"""The event stream under load: how many idle authenticated sockets one daphne process holds, what
each costs in memory, what they cost the database and the CPU while idle (the per-process poll),
and how long an event made in the Celery worker takes to reach a socket.

Starts a real stack (daphne, Celery worker) in a temporary folder — the embedded mode by default
(SQLite, file broker, in-memory channel layer, where worker-made events arrive through the poll),
or MariaDB + Redis with --services (DATABASE_URL and REDIS_URL from the environment).

    .venv/bin/python bench/events.py --sockets 2000
    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1/sudamall REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/events.py --sockets 2000 --services

Not a test: it prints figures; correctness is the suite's (notifications/tests, integration).
"""

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import jwt
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from core.tests.stack import SECRET_KEY, running_stack, staff_token

MAKE_USERS = """
from accounts.models import User
from django.contrib.auth.hashers import make_password
password = make_password("bench-password-123")
User.objects.bulk_create([User(email=f"bench{{n}}@example.com", password=password,
                               is_email_verified=True) for n in range({count})])
print(",".join(str(pk) for pk in User.objects.filter(email__startswith="bench")
                                             .values_list("pk", flat=True)))
"""


def token_for(user_id: int) -> str:
    now = int(time.time())
    claims = {"token_type": "access", "user_id": str(user_id), "iat": now, "exp": now + 3600}
    return jwt.encode({**claims, "jti": uuid.uuid4().hex}, SECRET_KEY, algorithm="HS256")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


async def open_sockets(url: str, user_ids: list[int]) -> list:
    async def one(user_id: int):  # type: ignore[no-untyped-def]
        socket = await websockets.connect(url, open_timeout=60, ping_interval=None)
        await socket.send(json.dumps({"type": "auth", "token": token_for(user_id)}))
        answer = json.loads(await socket.recv())
        assert answer["type"] == "auth.ok", answer
        return socket

    sockets = []
    for start in range(0, len(user_ids), 200):  # in waves: a real fleet doesn't connect at once
        sockets += await asyncio.gather(*(one(u) for u in user_ids[start : start + 200]))
    return sockets


async def worker_event_latency(stack, samples: int) -> list[float]:  # type: ignore[no-untyped-def]
    url = stack.base_url.replace("http://", "ws://") + "/ws/events/"
    latencies = []
    async with websockets.connect(url) as socket, httpx.AsyncClient(timeout=10) as client:
        await socket.send(json.dumps({"type": "auth", "token": staff_token()}))
        await socket.recv()
        for _ in range(samples):
            sent = time.monotonic()
            response = await client.post(
                stack.base_url + "/api/ops/worker-checks/",
                headers={"Authorization": f"Bearer {staff_token()}"},
            )
            response.raise_for_status()
            while True:  # the worker runs the check and pushes ops.worker_check.completed
                event = json.loads(await asyncio.wait_for(socket.recv(), 30))
                if event["type"] == "ops.worker_check.completed":
                    break
            latencies.append(time.monotonic() - sent)
            await asyncio.sleep(0.3)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=20, help="worker-made events to time")
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--services", action="store_true", help="MariaDB + Redis")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # daphne inherits it
    mode = "services" if args.services else "embedded"

    with tempfile.TemporaryDirectory() as tmp, running_stack(mode, Path(tmp)) as stack:
        web = stack.processes["web1"].pid
        created = stack.manage("shell", "-c", MAKE_USERS.format(count=args.sockets))
        user_ids = [int(pk) for pk in created.strip().splitlines()[-1].split(",")]
        ws_url = stack.base_url.replace("http://", "ws://") + "/ws/events/"
        before = rss_kib(web)

        async def hold() -> tuple[float, int, float]:
            started = time.monotonic()
            sockets = await open_sockets(ws_url, user_ids)
            opened = time.monotonic() - started
            await asyncio.sleep(2)
            held = rss_kib(web)
            cpu0 = cpu_seconds(web)
            await asyncio.sleep(args.idle_seconds)
            idle_cpu = (cpu_seconds(web) - cpu0) / args.idle_seconds
            for socket in sockets:
                await socket.close()
            return opened, held, idle_cpu

        opened, held, idle_cpu = asyncio.run(hold())
        latencies = sorted(asyncio.run(worker_event_latency(stack, args.samples)))

    per_socket = (held - before) / max(args.sockets, 1)
    print(f"mode: {mode}")
    print(f"sockets held by one daphne process: {args.sockets} (opened in {opened:.1f} s)")
    print(f"daphne RSS: {before / 1024:.0f} MiB idle, {held / 1024:.0f} MiB with the sockets; "
          f"{per_socket:.1f} KiB per socket")  # fmt: skip
    print(f"idle CPU of daphne with {args.sockets} sockets (the poll): {idle_cpu * 100:.1f} % "
          f"of one core")  # fmt: skip
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    p50, worst = statistics.median(latencies), latencies[-1]
    print(f"worker-made event to socket ({len(latencies)} samples): p50 {p50:.2f} s, "
          f"p95 {p95:.2f} s, max {worst:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
