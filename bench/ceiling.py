"""Catalogue reads over HTTP against the framework's ceiling, in one command.

Starts the project's production server (daphne with the bounded thread pool, ``DEBUG`` off, the
Celery worker beside it; MariaDB + Redis when ``DATABASE_URL``/``REDIS_URL`` are set, else the
embedded SQLite stack) with the bench-only ceiling views mounted (``BENCH_CEILING``: a DRF view
answering 20 precomputed products of the list's shape — bare, and with the default
authentication and throttle classes), loads a catalogue with ``demo_data``, and drives every
target with a load generator (asyncio, a fixed number of keep-alive connections, raw HTTP/1.1 so
the client costs little) for a few seconds each, in alternating rounds (the order shuffled each
round). Prints requests/s (the median of the rounds), p50 and p99 latency, and each target's
share of the bare ceiling measured in the same round.

"Warm" targets ask the same URL again and again (the anonymous answers are shared for
``CATALOGUE_CACHE_SECONDS``); "cold" ones add a new query parameter to every request, so every
request misses the shared answer and does the whole read, as the first request after a change
does. The throttles run (their rates raised so the generator isn't refused).

    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1:3306/sudamall \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/ceiling.py --products 2000
    ... --webs 2     # two daphne processes, connections spread over both (as behind nginx)

The generator shares the machine's cores with the server: read the ratios, not the absolutes.
"""

import argparse
import asyncio
import collections
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from core.tests.stack import Stack, services_configured, token_for


@dataclass
class Target:
    name: str
    path: str  # "{n}" is replaced by a request counter (cold targets)
    signed_in: bool = False
    per_round: list[float] = field(default_factory=list)  # requests/s
    ratios: list[float] = field(default_factory=list)  # over the bare ceiling of the same round
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter = field(default_factory=collections.Counter)


async def _response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _drive(
    base_urls: list[str], target: Target, token: str, connections: int, seconds: float
) -> tuple[int, list[float], collections.Counter]:
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    counter = iter(range(10**9))
    auth = f"Authorization: Bearer {token}\r\n" if target.signed_in else ""
    deadline = time.perf_counter() + seconds

    async def connection(index: int) -> None:
        url = urlsplit(base_urls[index % len(base_urls)])
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            while time.perf_counter() < deadline:
                path = target.path.replace("{n}", str(next(counter)))
                request = (
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
                    "Accept: application/json\r\nConnection: keep-alive\r\n\r\n"
                )
                started = time.perf_counter()
                writer.write(request.encode())
                statuses[await _response(reader)] += 1
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection(i) for i in range(connections)))
    elapsed = time.perf_counter() - started
    return int(len(latencies) / elapsed), latencies, statuses


def targets(product_id: int, category: str) -> list[Target]:
    page = "/api/products/?page_size=20"
    return [
        Target("ceiling: bare DRF view, 20 products", "/bench/ceiling/"),
        Target("ceiling + default auth and throttle", "/bench/ceiling-framework/"),
        Target("products, page 1 (warm)", page),
        Target("products, page 1 (cold)", page + "&_b={n}"),
        Target(
            "products, page 2 of a category (cold)", f"{page}&category={category}&page=2&_b={{n}}"
        ),
        Target("products by price, in stock (cold)", page + "&ordering=price&in_stock=true&_b={n}"),
        Target("products, 100 a page (cold)", "/api/products/?page_size=100&_b={n}"),
        Target("product detail (warm)", f"/api/products/{product_id}/"),
        Target("product detail (cold)", f"/api/products/{product_id}/?_b={{n}}"),
        Target("stores (warm)", "/api/stores/"),
        Target("stores (cold)", "/api/stores/?_b={n}"),
        Target("categories (warm)", "/api/categories/"),
        Target("categories (cold)", "/api/categories/?_b={n}"),
        Target("products, page 1, signed in", page, signed_in=True),
        Target("product detail, signed in", f"/api/products/{product_id}/", signed_in=True),
    ]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


# What a bench stack runs with: the ceiling views mounted, no throttling in the way, quiet logs.
BENCH_ENV = {
    "BENCH_CEILING": "true",
    "THROTTLE_ANON_RATE": "100000000/min",
    "THROTTLE_USER_RATE": "100000000/min",
    "LOG_LEVEL": "WARNING",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--webs", type=int, default=1, help="daphne processes (1 or 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="per target per round")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    mode = "services" if services_configured() else "embedded"
    with tempfile.TemporaryDirectory(prefix="sudamall-bench-http-") as workdir:
        stack = Stack(mode, Path(workdir))
        stack.env.update(BENCH_ENV)
        try:
            started = time.perf_counter()
            stack.start(webs=args.webs)
            stack.manage("demo_data", "--products", str(args.products), "--force")
            facts = json.loads(
                stack.manage(
                    "shell",
                    "-c",
                    "import json; from products.models import Product, Category; "
                    "from accounts.models import User; "
                    "p = Product.objects.filter(deleted_at__isnull=True).order_by('-id').first(); "
                    "c = Category.objects.order_by('id').first(); "
                    "u = User.objects.filter(is_staff=False).order_by('id').first(); "
                    "print(json.dumps({'product': p.pk, 'category': c.slug, 'user': u.pk, "
                    "'products': Product.objects.count()}))",
                )
                .strip()
                .splitlines()[-1]
            )
            print(
                f"# {mode}, {args.webs} web process(es), {facts['products']} products, "
                f"{args.connections} connections, {args.rounds} rounds x {args.seconds:g} s, "
                f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} "
                f"(stack up in {time.perf_counter() - started:.0f} s)"
            )
            token = token_for(facts["user"])
            plan = targets(facts["product"], facts["category"])
            for target in plan:  # warm up every path once (imports, the ceiling's payload)
                asyncio.run(_drive(stack.base_urls, target, token, 2, 0.5))
            for _ in range(args.rounds):
                order = plan[:]
                random.shuffle(order)
                measured = {}
                for target in order:
                    rate, latencies, statuses = asyncio.run(
                        _drive(stack.base_urls, target, token, args.connections, args.seconds)
                    )
                    target.per_round.append(rate)
                    target.latencies += latencies
                    target.statuses.update(statuses)
                    measured[target.name] = rate
                ceiling = measured[plan[0].name] or 1
                for target in plan:
                    target.ratios.append(measured[target.name] / ceiling)
        finally:
            stack.stop()

    print()
    print("| target | requests/s | p50 ms | p99 ms | x bare ceiling | not 200 |")
    print("|---|---|---|---|---|---|")
    for target in plan:
        other = {s: n for s, n in target.statuses.items() if s != 200}
        print(
            f"| {target.name} | {statistics.median(target.per_round):,.0f} | "
            f"{percentile(target.latencies, 0.5):.1f} | {percentile(target.latencies, 0.99):.1f} | "
            f"{statistics.median(target.ratios):.3f} | {other or '-'} |"
        )


if __name__ == "__main__":
    main()
