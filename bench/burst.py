"""A burst against two web processes on MariaDB: 500 requests at once, mixed across the
catalogue, the cart and checkout. Prints the answers by status, the most database connections the
stack held at any moment against its bound, and whether the stock invariants held.

Runs the stack twice in one go: with the bounded thread pool (``WEB_THREADS``, core.asgi) and,
as the baseline, with ``WEB_THREADS=0`` — Django's own ASGI handler, a thread and a connection
per request in flight, as before.

    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1/sudamall REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/burst.py

Not a test: it prints figures; correctness is the suite's (core/tests/test_asgi_pool.py).
"""

import argparse
import asyncio
import collections
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from core.tests.stack import SECRET_KEY, running_stack, services_configured

SEED = """
from accounts.models import User
from django.contrib.auth.hashers import make_password
from products.tests.factories import make_product
from stores.tests.factories import StoreFactory
password = make_password("bench-password-123")
User.objects.bulk_create([User(email=f"burst{{n}}@example.com", password=password,
                               is_email_verified=True) for n in range({buyers})])
store = StoreFactory(name="Burst store")
scarce = make_product(store, name="Scarce kettle", stock={scarce})
for n in range({catalogue}):
    make_product(store, name=f"Catalogue item {{n}}", stock=1000)
ids = list(User.objects.filter(email__startswith="burst").values_list("pk", flat=True))
print(json.dumps({{"buyers": ids, "scarce": scarce.pk}}))
"""

INVARIANTS = """
from products.models import Size, Reservation
from django.db.models import Sum
size = Size.objects.get(product_id={scarce})
held = Reservation.objects.filter(size=size, status="active").aggregate(n=Sum("quantity"))["n"] or 0
print(json.dumps({{"on_hand": size.on_hand, "reserved": size.reserved, "held": held}}))
"""


def token_for(user_id: int) -> str:
    now = int(time.time())
    claims = {"token_type": "access", "user_id": str(user_id), "iat": now, "exp": now + 3600}
    return jwt.encode({**claims, "jti": uuid.uuid4().hex}, SECRET_KEY, algorithm="HS256")


class ConnectionWatch:
    """The stack's connections to its database, sampled every 20 ms while the burst runs."""

    def __init__(self, database: str) -> None:
        self.database, self.peak, self._stop = database, 0, threading.Event()

    def __enter__(self) -> "ConnectionWatch":
        import MySQLdb

        url = urlsplit(os.environ["DATABASE_URL"])
        self._conn = MySQLdb.connect(
            host=url.hostname or "127.0.0.1", port=url.port or 3306,
            user=url.username or "root", password=url.password or "",
        )  # fmt: skip
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        cursor = self._conn.cursor()
        while not self._stop.is_set():
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s",
                [self.database],
            )
            self.peak = max(self.peak, int(cursor.fetchone()[0]))
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()


async def burst(base_url: str, buyers: list[int], scarce: int, total: int) -> collections.Counter:
    seed = {"scarce": scarce}
    limits = httpx.Limits(max_connections=total, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        # Each checkout's buyer puts the scarce kettle in their cart first (not part of the burst).
        checkout_buyers = buyers[: total // 5]
        await asyncio.gather(*(
            client.post(f"{base_url}/api/cart/add/", json={"product_id": seed["scarce"],
                        "quantity": 1}, headers={"Authorization": f"Bearer {token_for(b)}"})
            for b in checkout_buyers
        ))  # fmt: skip
        requests = []
        for n in range(total):
            base = n % 5
            if base in (0, 1):
                requests.append(("GET", f"/api/products/?page={1 + n % 3}", None, None))
            elif base == 2:
                requests.append(("GET", f"/api/products/{seed['scarce']}/", None, None))
            elif base == 3:
                buyer = buyers[total // 5 + (n // 5) % (len(buyers) - total // 5)]
                requests.append(("POST", "/api/cart/add/", {"product_id": seed["scarce"],
                                 "quantity": 1}, buyer))  # fmt: skip
            else:
                buyer = checkout_buyers[(n // 5) % len(checkout_buyers)]
                address = {
                    "full_name": "Burst Buyer",
                    "phone": "+249912345678",
                    "line1": "Street 1",
                    "city": "Khartoum",
                    "country": "Sudan",
                }
                requests.append(("POST", "/api/cart/checkout/", {"shipping_address": address},
                                 buyer))  # fmt: skip

        async def send(method: str, path: str, body: dict | None, buyer: int | None) -> str:
            headers = {"Authorization": f"Bearer {token_for(buyer)}"} if buyer else {}
            try:
                answer = await client.request(method, base_url + path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                return type(exc).__name__
            return str(answer.status_code)

        return collections.Counter(await asyncio.gather(*(send(*r) for r in requests)))


def run(mode_name: str, threads: int, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as workdir, running_stack(
        "services", Path(workdir), webs=2, WEB_THREADS=str(threads), WEB_QUEUE_SECONDS="60",
        # One client machine sends the whole burst: the per-IP rates would answer most of it 429.
        THROTTLE_ANON_RATE="100000/min", THROTTLE_USER_RATE="100000/min",
    ) as stack:  # fmt: skip
        out = stack.manage("shell", "-c", "import json\n" + SEED.format(
            buyers=args.buyers, scarce=args.scarce, catalogue=args.catalogue))  # fmt: skip
        seed = json.loads(out.strip().splitlines()[-1])
        assert stack.database_name is not None
        started = time.monotonic()
        # Half the burst at each web process, all at once.
        with ConnectionWatch(stack.database_name) as watch:

            async def both() -> list[collections.Counter]:
                half, buyers = args.requests // 2, seed["buyers"]
                split = len(buyers) // 2  # each web process's buyers are its own
                return await asyncio.gather(
                    burst(stack.base_urls[0], buyers[:split], seed["scarce"], half),
                    burst(stack.base_urls[1], buyers[split:], seed["scarce"], half),
                )

            counts = sum(asyncio.run(both()), collections.Counter())
        elapsed = time.monotonic() - started
        stock = json.loads(
            stack.manage("shell", "-c", "import json\n" + INVARIANTS.format(scarce=seed["scarce"]))
            .strip().splitlines()[-1]
        )  # fmt: skip
    bound = 2 * (threads + 1) + 2 if threads else None  # + the worker's and beat's
    return {"mode": mode_name, "counts": counts, "peak": watch.peak, "bound": bound,
            "stock": stock, "seconds": elapsed}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8, help="WEB_THREADS per process")
    parser.add_argument("--buyers", type=int, default=400)
    parser.add_argument("--scarce", type=int, default=50, help="units of the contended product")
    parser.add_argument("--catalogue", type=int, default=60)
    args = parser.parse_args()
    if not services_configured():
        sys.exit("needs DATABASE_URL (MariaDB) and REDIS_URL")
    results = [run("bounded pool (core.asgi)", args.threads, args),
               run("baseline: Django's ASGI handler", 0, args)]  # fmt: skip
    print(f"\n{args.requests} requests at once over two web processes (MariaDB + Redis)\n")
    print(
        "| mode | answers | 5xx | peak DB connections (bound) | stock on hand / reserved / "
        "held | seconds |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        fives = sum(n for status, n in r["counts"].items() if not status.isdigit()
                    or status.startswith("5"))  # fmt: skip
        answers = ", ".join(f"{s} x{n}" for s, n in sorted(r["counts"].items()))
        bound = f"{r['bound']}" if r["bound"] else "none"
        s = r["stock"]
        print(
            f"| {r['mode']} | {answers} | {fives} | {r['peak']} ({bound}) | "
            f"{s['on_hand']} / {s['reserved']} / {s['held']} | {r['seconds']:.1f} |"
        )


if __name__ == "__main__":
    main()
