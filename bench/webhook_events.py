"""A webhook payment's events to an open socket: how long after the signed test webhook is
answered do ``payment.succeeded`` and ``order.status_changed`` reach the payer's socket (API.md:
within 2 s)?

Starts a real stack (``core.tests.stack``: daphne, the Celery worker) in a temporary folder — the
embedded mode (SQLite, file broker, in-memory channel layer: the worker's events reach sockets
through the per-process poll of the event log) and/or the services mode (MariaDB + Redis channel
layer; DATABASE_URL and REDIS_URL from the environment). It seeds N checkouts for the staff user
(``payments/tests/test_integration.py``'s PLACE, placed N times; the hold limits raised to fit),
creates a test-gateway payment for each and waits for the worker to go quiet: the seeding
queued a follow-up per checkout (the order_placed email), which the embedded file broker hands
over about one a poll (0.2 s), so without the wait the first webhooks queue behind them (about
5 s for the first of 30 when tried). It opens ONE socket with the ``websockets`` library and no
Origin (like a native app) and authenticates it. Then, one payment at a time (0.3 s apart), it
posts the signed webhook and waits for that payment's ``payment.succeeded`` (its ``id``) and its
order's ``order.status_changed`` to ``paid`` (the order's ``id``); the latency runs from the
webhook's 200 to the arrival of the later of the two (arrivals are timestamped by a reader task
as they come off the socket). At the end every payment must read ``succeeded``. Email goes to
the locmem backend (no SMTP server here for the worker to fail against).

Prints a markdown table: p50, p95, max, how many within 2 s, the webhook's own answer time and
the load average when the mode finished. Exits 1 if any payment's events didn't arrive within
30 s or any payment didn't end ``succeeded``.

    .venv/bin/python bench/webhook_events.py --mode embedded --payments 30
    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1:3306/sudamall \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/webhook_events.py --mode both

Not a test: it prints figures; correctness is the suite's
(``test_a_webhook_payment_reaches_an_open_socket_and_a_resumed_one``).
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from ceiling import percentile

from core.tests.stack import Stack, running_stack, services_configured, staff_token
from payments.gateways import test as test_gateway
from payments.tests.test_integration import PLACE, _receive_until

WEBHOOK_SECRET = "whsec_bench_webhook_events"  # noqa: S105 - the bench stack's own
EVENTS = {"payment.succeeded", "order.status_changed"}
PROMISE = 2.0  # seconds, API.md
GIVE_UP = 30.0  # seconds without both events: the payment counts as missed

ORDERS_BY_CHECKOUT = """
import json
from orders.models import Order
print(json.dumps(list(Order.objects.values_list("checkout_id", "pk"))))
"""


def seed_script(count: int) -> str:
    """PLACE with its checkout placed ``count`` times (2 units each: the product gets twice
    ``count`` in stock), then every order's checkout as the last line."""
    setup, place = PLACE.split("checkout = place_checkout(")
    if '"stock": 3' not in setup or "print(checkout.pk)" not in place:
        raise RuntimeError("test_integration.PLACE changed: adapt seed_script")
    setup = setup.replace('"stock": 3', f'"stock": {2 * count}')
    loop = textwrap.indent("checkout = place_checkout(" + place, "    ")
    return f"{setup}for _ in range({count}):\n{loop}{ORDERS_BY_CHECKOUT}"


@dataclass
class Result:
    mode: str
    payments: int
    latencies: list[float] = field(default_factory=list)  # webhook 200 → the later event, s
    answers: list[float] = field(default_factory=list)  # webhook sent → its 200, s
    missed: list[int] = field(default_factory=list)  # payment ids whose events never came
    not_succeeded: dict[int, str] = field(default_factory=dict)
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)


class PaymentEvents:
    """What ``_receive_until`` reads: the socket's arrivals, only this payment's two events
    passed on; remembers when the last one passed came off the socket."""

    def __init__(self, inbox: asyncio.Queue, payment_id: int, order_ids: set[int]) -> None:
        self.inbox, self.payment_id, self.order_ids = inbox, payment_id, order_ids
        self.arrived = 0.0

    def _ours(self, event: dict) -> bool:
        data = event.get("data") or {}
        if event.get("type") == "payment.succeeded":
            return data.get("id") == self.payment_id
        if event.get("type") == "order.status_changed":
            return data.get("id") in self.order_ids and data.get("to") == "paid"
        return False

    async def recv(self) -> str:
        while True:
            arrived, raw = await self.inbox.get()
            if self._ours(json.loads(raw)):
                self.arrived = arrived
                return raw


async def _read(socket, inbox: asyncio.Queue) -> None:  # type: ignore[no-untyped-def]
    async for raw in socket:
        inbox.put_nowait((time.monotonic(), raw))


async def drive(stack: Stack, payments: dict[int, set[int]], result: Result) -> None:
    """``payments``: payment id → its checkout's order ids."""
    ws_url = stack.base_url.replace("http://", "ws://") + "/ws/events/"
    secret = stack.env["PAYMENT_TEST_WEBHOOK_SECRET"]
    async with websockets.connect(ws_url) as socket, httpx.AsyncClient(timeout=10) as client:
        await socket.send(json.dumps({"type": "auth", "token": staff_token()}))
        answer = json.loads(await socket.recv())
        if answer["type"] != "auth.ok":
            raise RuntimeError(f"the socket was not authenticated: {answer}")
        inbox: asyncio.Queue = asyncio.Queue()
        reader = asyncio.create_task(_read(socket, inbox))
        try:
            for payment_id, order_ids in payments.items():
                body = json.dumps({"id": f"evt_bench_{uuid.uuid4().hex}",
                                   "type": "payment.succeeded",
                                   "data": {"payment_id": payment_id}}).encode()  # fmt: skip
                headers = {"Content-Type": "application/json",
                           "X-Signature": test_gateway.sign(body, secret)}  # fmt: skip
                sent = time.monotonic()
                delivered = await client.post(
                    stack.base_url + "/api/payments/webhook/", content=body, headers=headers
                )
                answered = time.monotonic()
                if delivered.status_code != 200:
                    raise RuntimeError(f"webhook: {delivered.status_code} {delivered.text}")
                result.answers.append(answered - sent)
                events = PaymentEvents(inbox, payment_id, order_ids)
                try:
                    await _receive_until(events, EVENTS, timeout=GIVE_UP)
                    result.latencies.append(events.arrived - answered)
                except TimeoutError:
                    result.missed.append(payment_id)
                await asyncio.sleep(0.3)
        finally:
            reader.cancel()


def wait_for_quiet_worker(stack: Stack, quiet: float = 2.0, limit: float = 120) -> None:
    """Until the worker's log hasn't grown for ``quiet`` seconds (it logs every task it takes)."""
    log = stack.workdir / "worker.log"
    size, since, deadline = -1, time.monotonic(), time.monotonic() + limit
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        stack.assert_running()
        if log.stat().st_size != size:
            size, since = log.stat().st_size, time.monotonic()
        time.sleep(0.1)


def measure(mode: str, count: int) -> Result:
    result = Result(mode, count)
    env = {
        "PAYMENT_TEST_GATEWAY_ENABLED": "true",
        "PAYMENT_TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "HOLD_MAX_OPEN_CHECKOUTS": str(count),
        "HOLD_MAX_UNITS": str(2 * count),
    }
    with tempfile.TemporaryDirectory() as tmp, running_stack(mode, Path(tmp), **env) as stack:
        lines = stack.manage("shell", "-c", seed_script(count)).strip().splitlines()
        checkout_ids = [int(line) for line in lines[-count - 1 : -1]]
        orders: dict[int, set[int]] = {}
        for checkout_id, order_id in json.loads(lines[-1]):
            orders.setdefault(checkout_id, set()).add(order_id)
        client = httpx.Client(
            base_url=stack.base_url,
            headers={"Authorization": f"Bearer {staff_token()}"},
            timeout=10,
        )
        payments: dict[int, set[int]] = {}
        for checkout_id in checkout_ids:
            created = client.post(
                "/api/payments/create/", json={"checkout_id": checkout_id, "gateway": "test"}
            )
            if created.status_code != 201:
                raise RuntimeError(f"payment not created ({created.status_code}): {created.text}")
            payments[created.json()["id"]] = orders[checkout_id]

        wait_for_quiet_worker(stack)
        asyncio.run(drive(stack, payments, result))
        result.load = os.getloadavg()

        deadline = time.monotonic() + GIVE_UP  # a missed payment may still be in the worker
        for payment_id in payments:
            while True:
                status = client.get(f"/api/payments/{payment_id}/").json()["status"]
                if status == "succeeded" or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            if status != "succeeded":
                result.not_succeeded[payment_id] = status
        client.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["embedded", "services", "both"], default="embedded")
    parser.add_argument("--payments", type=int, default=30)
    args = parser.parse_args()
    modes = ["embedded", "services"] if args.mode == "both" else [args.mode]
    if "services" in modes and not services_configured():
        parser.error("the services mode needs DATABASE_URL (MariaDB) and REDIS_URL")

    results = [measure(mode, args.payments) for mode in modes]

    print(f"\nwebhook 200 → payment.succeeded and order.status_changed on one open socket "
          f"(API.md: within {PROMISE:.0f} s)\n")  # fmt: skip
    print("| mode | payments | p50 (ms) | p95 (ms) | max (ms) | within 2 s | "
          "webhook answer p50 (ms) | load average 1/5/15 min |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        within = sum(latency <= PROMISE for latency in r.latencies)
        worst = max(r.latencies, default=0.0) * 1000
        print(f"| {r.mode} | {r.payments} | {percentile(r.latencies, 0.5):.0f} | "
              f"{percentile(r.latencies, 0.95):.0f} | {worst:.0f} | {within}/{r.payments} | "
              f"{percentile(r.answers, 0.5):.0f} | "
              f"{' / '.join(f'{x:.2f}' for x in r.load)} |")  # fmt: skip
    print()
    failed = False
    for r in results:
        first = r.latencies[0] * 1000 if r.latencies else float("nan")
        early = sum(latency < 0 for latency in r.latencies)
        print(f"{r.mode}: first payment {first:.0f} ms; {early} arrived before the webhook's 200; "
              f"missed (none within {GIVE_UP:.0f} s): {r.missed or 'none'}; "
              f"not succeeded: {r.not_succeeded or 'none'}")  # fmt: skip
        failed = failed or bool(r.missed or r.not_succeeded)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
