"""Chat under load: one daphne process holding thousands of idle authenticated sockets on
/ws/events/, and, while it holds them, how long a chat message sent through the HTTP API takes to
reach both sides' sockets.

Starts a real stack (daphne, Celery worker) in a temporary folder — the embedded mode by default
(SQLite, in-memory channel layer: the ring works within the one process, and these events are
made by the web process), or MariaDB + Redis with --services: a database of its own on
DATABASE_URL's server (dropped after), and a redis-server of its own on a free port — every
integration stack that starts flushes databases 12 and 13 of the shared Redis, which would wipe
this stack's channel-layer groups mid-run (--shared-redis: REDIS_URL's server, as events.py).
Then:

1. opens --idle sockets (2,000) as idle users and reports the daphne process's RSS per socket;
2. opens a socket for each of --conversations buyers (200) and each store owner (--stores
   stores, each answering its share of the conversations), and sends messages at a steady
   --rate through ``POST /api/chat/conversations/{id}/messages/``, buyers and stores taking
   turns in each conversation. Each message is timed from just before its POST to the moment its
   ``chat.message`` event (matched by ``client_message_id``) arrives on the recipient's socket
   and on the sender's own socket. The first --warmup seconds are sent but not counted. The
   HTTP answer's time is printed beside them, with daphne's CPU, the machine's load and the
   warnings daphne logged (a full channel-layer inbox shows there as ChannelFull).

    .venv/bin/python bench/chat.py
    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1:3306/sudamall \
        REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/chat.py --services

Not a test: it prints figures; correctness is the suite's (chat/tests, notifications/tests).
"""

import argparse
import asyncio
import collections
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
import websockets

# bench/events.py puts api/ on the path and has the socket, token and /proc helpers.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from events import cpu_seconds, rss_kib, token_for

from core.tests.stack import running_stack

SEED = """
import json
from accounts.models import User
from chat import services
from django.contrib.auth.hashers import make_password
from stores.models import Store
password = make_password("bench-password-123")
def make(prefix, count, **fields):
    User.objects.bulk_create([User(email=f"{prefix}{n}@example.com", password=password,
                                   is_email_verified=True, **fields) for n in range(count)])
    return list(User.objects.filter(email__startswith=prefix).order_by("pk")
                .values_list("pk", flat=True))
idle = make("idle", PARAMS["idle"])
buyers = make("buyer", PARAMS["conversations"], first_name="Bench", last_name="Buyer")
owners = make("owner", PARAMS["stores"], account_type=User.AccountType.BUSINESS_OWNER)
stores = [Store.objects.create(owner_id=o, name=f"Chat store {n}", slug=f"chat-store-{n}")
          for n, o in enumerate(owners)]
conversations = []
for n, buyer in enumerate(User.objects.filter(pk__in=buyers).order_by("pk")):
    store = stores[n % len(stores)]
    conversation, _ = services.start_conversation(buyer=buyer, store=store)
    conversations.append([conversation.pk, buyer.pk, store.owner_id])
print(json.dumps({"idle": idle, "conversations": conversations}))
"""


async def open_sockets(url: str, user_ids: list[int], wave: int = 50) -> list:
    """events.py's way (first-message auth, in waves), in smaller waves: each handshake joins a
    group through the channel layer, and with Redis a process's layer has at most 100
    connections (redis-py's pool default) — 200 handshakes at once sometimes failed with 1011
    (MaxConnectionsError)."""

    async def one(user_id: int):  # type: ignore[no-untyped-def]
        ws = await websockets.connect(url, open_timeout=60, ping_interval=None)
        await ws.send(json.dumps({"type": "auth", "token": token_for(user_id)}))
        answer = json.loads(await ws.recv())
        assert answer["type"] == "auth.ok", answer
        return ws

    sockets = []
    for start in range(0, len(user_ids), wave):
        sockets += await asyncio.gather(*(one(u) for u in user_ids[start : start + wave]))
    return sockets


@dataclass
class Sent:
    sender: int
    recipient: int
    counted: bool
    started: float
    answered: float | None = None
    status: int | None = None
    at_recipient: float | None = None
    at_sender: float | None = None


def percentiles(values: list[float]) -> tuple[float, float, float, float]:
    """p50, p95, p99 and max, nearest rank, in milliseconds."""
    if not values:
        return (float("nan"),) * 4  # type: ignore[return-value]
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered) + 0.5) - 1))] * 1000

    return rank(0.50), rank(0.95), rank(0.99), ordered[-1] * 1000


async def loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    """How late this client's own event loop wakes (it shares the 2 cores with the stack)."""
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.01)
        samples.append(time.monotonic() - before - 0.01)


async def read_socket(ws, user_id: int, sent: dict[str, Sent]) -> None:  # type: ignore[no-untyped-def]
    async for raw in ws:
        now = time.monotonic()
        event = json.loads(raw)
        if event.get("type") != "chat.message":
            continue
        record = sent.get(event["data"].get("client_message_id") or "")
        if record is None:
            continue
        if user_id == record.sender and record.at_sender is None:
            record.at_sender = now
        elif user_id == record.recipient and record.at_recipient is None:
            record.at_recipient = now


async def chat_load(
    base_url: str,
    conversations: list[list[int]],
    args: argparse.Namespace,
    web_pid: int,
    layer_url: str | None,
) -> dict:
    ws_url = base_url.replace("http://", "ws://") + "/ws/events/"
    people = sorted({c[1] for c in conversations} | {c[2] for c in conversations})
    sockets = await open_sockets(ws_url, people)
    sent: dict[str, Sent] = {}
    readers = [
        asyncio.create_task(read_socket(s, u, sent)) for s, u in zip(sockets, people, strict=True)
    ]
    tokens = {u: token_for(u) for u in people}
    turns = {c[0]: 0 for c in conversations}
    lag: list[float] = []
    stop = asyncio.Event()
    lag_task = asyncio.create_task(loop_lag(lag, stop))
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    order = list(conversations)
    random.Random(7).shuffle(order)
    total = int(args.rate * (args.warmup + args.seconds))
    warmup = int(args.rate * args.warmup)

    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def send(n: int, conversation: list[int]) -> None:
            cid, buyer, owner = conversation
            buyer_turn = turns[cid] % 2 == 0
            turns[cid] += 1
            sender, recipient = (buyer, owner) if buyer_turn else (owner, buyer)
            key = uuid.uuid4().hex
            record = Sent(sender, recipient, n >= warmup, time.monotonic())
            sent[key] = record
            try:
                answer = await client.post(
                    f"{base_url}/api/chat/conversations/{cid}/messages/",
                    json={"body": f"Bench message {n}", "client_message_id": key},
                    headers={"Authorization": f"Bearer {tokens[sender]}"},
                )
                record.status = answer.status_code
            except httpx.HTTPError:
                record.status = 0
            record.answered = time.monotonic()

        tasks = []
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        cpu0 = None
        for n in range(total):
            if n == warmup:
                cpu0, cpu_started = cpu_seconds(web_pid), time.monotonic()
            delay = started + n / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(n, order[n % len(order)])))
        sending = time.monotonic() - started
        assert cpu0 is not None
        web_cpu = (cpu_seconds(web_pid) - cpu0) / (time.monotonic() - cpu_started)
        await asyncio.gather(*tasks)
        deadline = time.monotonic() + 15  # stragglers
        while time.monotonic() < deadline and any(
            r.status == 201 and (r.at_recipient is None or r.at_sender is None)
            for r in sent.values()
        ):
            await asyncio.sleep(0.1)
        rss_active = rss_kib(web_pid)
    stop.set()
    await lag_task
    for task in readers:
        task.cancel()
    groups = None
    if layer_url:  # the users' groups in the channel layer: all there unless someone flushed it
        groups = sum(1 for _ in redis.Redis.from_url(layer_url).scan_iter("sudamall:group:*"))
    for ws in sockets:
        await ws.close()
    return {
        "sent": [r for r in sent.values() if r.counted],
        "sending_seconds": sending,
        "total": total,
        "web_cpu": web_cpu,
        "rss_active": rss_active,
        "lag": lag,
        "active_sockets": len(sockets),
        "loadavg": (load_before, os.getloadavg()[0]),
        "groups": groups,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=2000, help="idle authenticated sockets")
    parser.add_argument("--conversations", type=int, default=200, help="one buyer each")
    parser.add_argument("--stores", type=int, default=20, help="their owners answer")
    parser.add_argument("--rate", type=float, default=20, help="messages a second, in all")
    parser.add_argument("--seconds", type=float, default=60, help="measured sending time")
    parser.add_argument("--warmup", type=float, default=5, help="sent first, not counted")
    parser.add_argument("--services", action="store_true", help="MariaDB + Redis")
    parser.add_argument("--shared-redis", action="store_true", help="REDIS_URL's server as is")
    parser.add_argument("--keep-log", metavar="FILE", help="copy daphne's log there")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # daphne inherits it
    mode = "services" if args.services else "embedded"
    if args.services and not os.environ.get("DATABASE_URL", "").startswith("mysql"):
        sys.exit("--services needs DATABASE_URL (mysql://…), and REDIS_URL with --shared-redis")
    if args.shared_redis and not os.environ.get("REDIS_URL"):
        sys.exit("--shared-redis needs REDIS_URL")
    env = {"CHAT_MESSAGES_PER_MINUTE": "100000"}  # one sender writes ~1 a second here
    redis_server = None
    if args.services and not args.shared_redis:
        redis_server = start_redis()
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_server[1]}/0"
    try:
        results = measure(mode, env, args)
    finally:
        if redis_server is not None:
            redis_server[0].terminate()
            redis_server[0].wait(timeout=10)
    report(mode, args, *results, redis_kind="shared" if args.shared_redis else "own")


def start_redis() -> tuple[subprocess.Popen[bytes], int]:
    """A Redis server of the bench's own: the integration stacks of the suite (CI, other
    sessions) flush databases 12 and 13 of the shared server whenever one starts, which wipes
    this stack's channel-layer groups mid-run (the rings then reach nobody and the 5 s poll
    delivers everything)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--maxclients", "10000"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            redis.Redis(port=port).ping()
            return server, port
        except redis.ConnectionError:
            time.sleep(0.05)
    server.terminate()
    raise RuntimeError("redis-server did not start")


def measure(mode: str, env: dict[str, str], args: argparse.Namespace) -> tuple:
    with tempfile.TemporaryDirectory() as tmp, running_stack(mode, Path(tmp), **env) as stack:
        web = stack.processes["web1"].pid
        params = {"idle": args.idle, "conversations": args.conversations, "stores": args.stores}
        out = stack.manage("shell", "-c", f"PARAMS = {json.dumps(params)}\n{SEED}")
        seed = json.loads(out.strip().splitlines()[-1])
        ws_url = stack.base_url.replace("http://", "ws://") + "/ws/events/"

        async def run() -> tuple[int, int, float, dict]:
            before = rss_kib(web)
            started = time.monotonic()
            idle = await open_sockets(ws_url, seed["idle"])
            opened = time.monotonic() - started
            await asyncio.sleep(2)
            held = rss_kib(web)
            layer = stack.env["REDIS_URL"] if mode == "services" else None
            load = await chat_load(stack.base_url, seed["conversations"], args, web, layer)
            for ws in idle:
                await ws.close()
            return before, held, opened, load

        try:
            before, held, opened, load = asyncio.run(run())
            stack.assert_running()
        except Exception:
            print(stack.logs(), file=sys.stderr)
            raise
        web_log = (Path(tmp) / "web1.log").read_text(errors="replace")
        problems = {
            "rings that failed (then rings pause 5 s; the poll delivers)": web_log.count(
                "rings pause briefly"
            ),
            "event polls that failed": web_log.count("event poll failed"),
            "tracebacks": web_log.count("Traceback"),
        }
        errors = collections.Counter(
            m.group(1)
            for m in re.finditer(r"^([\w.]*(?:Error|Exception|Full))(?::|$)", web_log, re.M)
        )
        problems.update({name: n for name, n in errors.most_common(3)})
        if args.keep_log:
            Path(args.keep_log).write_text(web_log)
    return before, held, opened, load, problems


def report(
    mode: str,
    args: argparse.Namespace,
    before: int,
    held: int,
    opened: float,
    load: dict,
    problems: dict[str, int],
    *,
    redis_kind: str,
) -> None:
    sent = load["sent"]
    ok = [r for r in sent if r.status == 201]
    statuses: dict[str, int] = {}
    for r in sent:
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
    recipient = [r.at_recipient - r.started for r in ok if r.at_recipient is not None]
    sender = [r.at_sender - r.started for r in ok if r.at_sender is not None]
    answer = [r.answered - r.started for r in ok if r.answered is not None]
    after_answer = [r.at_recipient - r.answered for r in ok if r.at_recipient and r.answered]
    missing_r = sum(r.at_recipient is None for r in ok)
    missing_s = sum(r.at_sender is None for r in ok)
    achieved = (load["total"] - 1) / load["sending_seconds"]  # from the first send to the last

    print(f"mode: {mode}" + (f" (Redis: {redis_kind} server)" if mode == "services" else ""))
    print(f"idle sockets held by one daphne process: {args.idle} (opened in {opened:.1f} s)")
    print(f"daphne RSS: {before / 1024:.0f} MiB before, {held / 1024:.0f} MiB with the idle "
          f"sockets: {(held - before) / max(args.idle, 1):.1f} KiB per socket; "
          f"{load['rss_active'] / 1024:.0f} MiB after the chat load")  # fmt: skip
    print(f"chat: {args.conversations} conversations, {args.stores} stores, "
          f"{load['active_sockets']} active sockets beside the idle ones; "
          f"{args.rate:g} messages/s asked, {achieved:.1f}/s sent; {len(sent)} counted after "
          f"{args.warmup:g} s of warm-up; answers {statuses}")  # fmt: skip
    print(f"daphne CPU while sending: {load['web_cpu'] * 100:.0f} % of one core; the machine's "
          f"load average {load['loadavg'][0]:.1f} before, {load['loadavg'][1]:.1f} after "
          f"({os.cpu_count()} cores)")  # fmt: skip
    lag = percentiles(load["lag"])
    print("daphne's log: " + ", ".join(f"{name}: {n}" for name, n in problems.items()))
    if load["groups"] is not None:
        print(f"channel-layer groups at the end: {load['groups']} "
              f"(one per connected user: {args.idle + load['active_sockets']})")  # fmt: skip
    print(f"this client's event-loop lag: p50 {lag[0]:.1f} ms, p99 {lag[2]:.1f} ms, "
          f"max {lag[3]:.0f} ms")  # fmt: skip
    print()
    print("| from just before the POST to … | n | p50 | p95 | p99 | max | missing |")
    print("|---|---|---|---|---|---|---|")
    rows = [
        ("`chat.message` on the recipient's socket", recipient, missing_r),
        ("`chat.message` on the sender's socket", sender, missing_s),
        ("the POST's answer (201)", answer, 0),
    ]
    for name, values, missing in rows:
        p50, p95, p99, worst = percentiles(values)
        print(f"| {name} | {len(values)} | {p50:.0f} ms | {p95:.0f} ms | {p99:.0f} ms | "
              f"{worst:.0f} ms | {missing} |")  # fmt: skip
    p50, p95, p99, worst = percentiles(after_answer)
    early = sum(v < 0 for v in after_answer)
    print(f"\nrecipient's event relative to the POST's answer: p50 {p50:+.0f} ms, "
          f"p95 {p95:+.0f} ms, p99 {p99:+.0f} ms "
          f"({early} of {len(after_answer)} arrived before the answer)")  # fmt: skip
    target = percentiles(recipient)[1] < 100 and percentiles(sender)[1] < 100
    print(f"target p95 < 100 ms to both sides: {'met' if target else 'MISSED'}")


if __name__ == "__main__":
    main()
