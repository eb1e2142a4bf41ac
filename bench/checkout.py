"""Checkout throughput over HTTP against the framework's ceiling, in one command.

Starts the production stack the way ``bench/ceiling.py`` does (daphne with the bounded thread
pool, ``DEBUG`` off, the Celery worker beside it; MariaDB + Redis when ``DATABASE_URL`` and
``REDIS_URL`` are set, else the embedded SQLite stack) with the bare ceiling view mounted
(``BENCH_CEILING``), seeds the catalogue and the buyers in one ``manage.py shell`` (30 stores, 90
products with plenty of stock; each buyer's cart holds 3 lines of 3 different stores, so every
checkout makes 3 orders), then drives ``POST /api/cart/checkout/`` with 1, 10 and 50 concurrent
buyers: a fixed number of keep-alive connections (``ceiling.py``'s raw HTTP/1.1 client), each
taking the next buyer who hasn't checked out yet, so every request checks out a full cart. Each
round measures the bare ceiling view first (requests/s, 16 connections), then each concurrency;
prints checkouts/s (median of the rounds), p50, p99, the answers by status and the ratio to the
ceiling of the same round — read the ratios on this shared machine, not the absolutes. The
payment window is 45 minutes, so no checkout's expiry warning or expiry runs during the run.

``--baseline REV``: the same against the project as it was at git revision REV, in the same
run. REV is exported (``git archive``) to a temporary folder and a second stack runs from its
``api/`` (same virtualenv; its own database, and in services mode Redis databases 14 and 15
instead of 12 and 13). Both stacks are seeded alike. Each round measures the ceiling on this
stack, then each concurrency on both stacks one after the other, the first of the two
alternating from round to round. The table gives, per concurrency, each stack's checkouts/s
(median of the rounds), p50, p99 and answers, and current / baseline: the median of the rounds'
ratios, each taken within one round. The answers must all be 201 on both stacks.

``--contention``: 200 buyers, one unit of one product with 50 on hand in each cart, every
checkout sent at once; exactly 50 must be 201, none 5xx, and the stock invariants must hold
(on hand / reserved / held by active reservations: 50 / 50 / 50, ``burst.py``'s check).

    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1:3306/sudamall \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/checkout.py
    ... --baseline f7279ab    # beside the code of f7279ab
    ... --contention          # the 200-for-50 check instead
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from burst import INVARIANTS
from ceiling import (
    BENCH_ENV,
    Target,
    _describe,
    _drive,
    _export,
    _response,
    _working_tree,
    percentile,
)

from core.tests.stack import Stack, services_configured, token_for

# The baseline stack's Redis databases (broker and channel layer; cache), flushed when it starts:
# not the current stack's 12 and 13. The revisions benched so far (f7279ab, with its single
# settings.py, and 4b818ee) take the broker and the channel layer from REDIS_URL and the cache
# from REDIS_CACHE_URL, which Stack sets to these; they read the same THROTTLE_*_RATE, EMAIL_*
# and PAYMENT_WINDOW_MINUTES as today, so the baseline needs no environment of its own.
BASELINE_REDIS_DBS = (14, 15)


SEED = """
import json
from decimal import Decimal
from django.contrib.auth.hashers import make_password
from accounts.models import User
from carts.models import Cart, CartItem
from products.models import Size
from products.tests.factories import make_product
from stores.tests.factories import StoreFactory

stores = [StoreFactory(name=f"Bench store {{n}}") for n in range({stores})]
products = [make_product(stores[n % len(stores)], name=f"Bench item {{n}}", stock={stock},
                         price=Decimal("10.00") + n) for n in range({products})]
scarce = make_product(stores[0], name="Scarce kettle", stock={scarce}) if {scarce} else None
sizes = {{s.product_id: s for s in Size.objects.filter(product__in=products + [scarce] if scarce
                                                        else products)}}
password = make_password("bench-password-123")
User.objects.bulk_create([User(email=f"buyer{{n}}@bench.example", password=password,
                               first_name=f"Buyer{{n}}", is_email_verified=True)
                          for n in range({buyers})])
buyers = list(User.objects.filter(email__endswith="@bench.example").order_by("pk"))
carts = Cart.objects.bulk_create([Cart(user=u) for u in buyers])
items = []
for n, cart in enumerate(carts):
    if scarce is not None:
        picked = [scarce]
    else:
        picked = [products[(3 * n + k) % len(products)] for k in range(3)]
    items += [CartItem(cart=cart, product=p, size=sizes[p.pk], quantity=1, unit_price=p.price)
              for p in picked]
CartItem.objects.bulk_create(items, batch_size=1000)
print(json.dumps({{"buyers": [u.pk for u in buyers], "scarce": scarce.pk if scarce else None,
                  "code": __import__("orders").__file__}}))
"""

ADDRESS = {
    "full_name": "Bench Buyer",
    "phone": "+249912345678",
    "line1": "Street 1",
    "city": "Khartoum",
    "country": "Sudan",
}


@dataclass
class Level:
    concurrency: int
    checkouts: int
    per_round: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    cpu: collections.Counter = field(default_factory=collections.Counter)  # seconds


def _checkout_request(buyer: int) -> bytes:
    body = json.dumps({"shipping_address": ADDRESS}).encode()
    head = (
        "POST /api/cart/checkout/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token_for(buyer)}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def _checkouts(
    base_urls: list[str], buyers: list[int], connections: int, *, at_once: bool = False
) -> tuple[float, list[float], collections.Counter]:
    """Every buyer checks out once, over ``connections`` keep-alive connections; with
    ``at_once`` each connection sends one request and they all leave together."""
    queue = collections.deque(buyers)
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    requests = {buyer: _checkout_request(buyer) for buyer in buyers}  # tokens made beforehand
    opened = [
        await asyncio.open_connection(
            urlsplit(base_urls[i % len(base_urls)]).hostname,
            urlsplit(base_urls[i % len(base_urls)]).port,
        )
        for i in range(connections)
    ]

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while queue:
                request = requests[queue.popleft()]
                started = time.perf_counter()
                writer.write(request)
                try:
                    statuses[await _response(reader)] += 1
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    statuses[type(exc).__name__] += 1
                    return
                latencies.append(time.perf_counter() - started)
                if at_once:
                    return
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection(reader, writer) for reader, writer in opened))
    return time.perf_counter() - started, latencies, statuses


def _cpu_seconds(group: int | None = None, pid: int | None = None) -> float:
    """CPU time (user + system, all threads) of one process or of every process in a process
    group, from ``/proc``."""
    total = 0
    stats = [Path(f"/proc/{pid}/stat")] if pid else Path("/proc").glob("[0-9]*/stat")
    for stat in stats:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if pid or int(fields[2]) == group:  # fields[2]: the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _pids_named(name: str) -> list[int]:
    return [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/comm")
            if p.exists() and p.read_text().strip() == name]  # fmt: skip


class CpuMeter:
    """CPU seconds the web processes, the worker, MariaDB, Redis and this client spend."""

    def __init__(self, stack: Stack) -> None:
        self.groups = {name: process.pid for name, process in stack.processes.items()}
        self.others = {"mariadb": _pids_named("mariadbd"), "redis": _pids_named("redis-server")}

    def sample(self) -> dict[str, float]:
        taken = {name: _cpu_seconds(group=pid) for name, pid in self.groups.items()}
        for name, pids in self.others.items():
            taken[name] = sum(_cpu_seconds(pid=pid) for pid in pids)
        taken["client"] = sum(os.times()[:2])
        return taken

    def settle(self, limit: float = 90.0) -> None:
        """Wait until the worker is idle (what the round queued is done), at most ``limit``."""
        deadline, last = time.monotonic() + limit, self.sample()["worker"]
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.sample()["worker"]
            if now - last < 0.03:
                return
            last = now


def _seed(stack: Stack, **counts: int) -> dict:
    out = stack.manage("shell", "-c", SEED.format(**counts))
    return json.loads(out.strip().splitlines()[-1])


@dataclass
class Side:
    """One stack under test: its buyers (seeded, not yet checked out) and its figures."""

    name: str
    stack: Stack
    levels: list[Level]
    buyers: collections.deque = field(default_factory=collections.deque)
    meter: CpuMeter | None = None
    seeded_in: float = 0.0  # seconds


def _prepare(side: Side, webs: int, buyers: int) -> None:
    """Start the side's stack and seed it; make sure its code is the side's."""
    side.stack.start(webs=webs)
    started = time.perf_counter()
    seed = _seed(side.stack, stores=30, products=90, stock=10**6, scarce=0, buyers=buyers)
    side.seeded_in = time.perf_counter() - started
    code = Path(seed["code"]).resolve()
    if not code.is_relative_to(side.stack.api_dir.resolve()):
        raise RuntimeError(f"{side.name} runs {code}, not code under {side.stack.api_dir}")
    side.buyers.extend(seed["buyers"])
    side.meter = CpuMeter(side.stack)


def _measure(side: Side, level: Level, ceiling_rate: int, label: str) -> None:
    mine = [side.buyers.popleft() for _ in range(level.checkouts)]
    assert side.meter is not None
    side.meter.settle()
    before = side.meter.sample()
    elapsed, latencies, statuses = asyncio.run(
        _checkouts(side.stack.base_urls, mine, level.concurrency)
    )
    side.meter.settle()  # the worker's share of the round: what the checkouts queued
    after = side.meter.sample()
    level.cpu.update({name: after[name] - before[name] for name in after})
    level.per_round.append(len(latencies) / elapsed)
    level.ratios.append(level.per_round[-1] / (ceiling_rate or 1))
    level.latencies += latencies
    level.statuses.update(statuses)
    print(
        f"  round: {label}{level.concurrency} buyers {level.per_round[-1]:.1f}/s "
        f"(ceiling {ceiling_rate:,}/s), {dict(statuses)}",
        flush=True,
    )


def throughput(sides: list[Side], args: argparse.Namespace, baseline: str = "") -> bool:
    """``sides``: this stack, and with ``--baseline`` the baseline's second (not started yet)."""
    warmup = 20
    needed = warmup + args.rounds * sum(args.checkouts)
    with ThreadPoolExecutor(len(sides)) as pool:  # migrate and seed both stacks at once
        ready = [pool.submit(_prepare, side, args.webs, needed) for side in sides]
    for future in ready:
        future.result()
    current = sides[0]
    print(
        f"# {current.stack.mode}, {len(current.stack.base_urls)} web process(es), {needed} buyers "
        f"with 3-line carts (3 stores each){' on each stack' if baseline else ''}, "
        f"{args.rounds} rounds, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} "
        f"(seeded in {' and '.join(f'{side.seeded_in:.0f}' for side in sides)} s)"
    )
    if baseline:
        print(f"# current: {_working_tree()}; baseline: {baseline}")
    ceiling = Target("ceiling: bare DRF view, 20 products", "/bench/ceiling/")
    asyncio.run(_drive(current.stack.base_urls, ceiling, "", 2, 0.5))  # warm the ceiling's payload
    for side in sides:
        asyncio.run(
            _checkouts(side.stack.base_urls, [side.buyers.popleft() for _ in range(warmup)], 2)
        )
    paired: list[list[float]] = [[] for _ in args.concurrency]  # current / baseline, per round
    for number in range(args.rounds):
        rate, latencies, statuses = asyncio.run(
            _drive(
                current.stack.base_urls, ceiling, "", args.ceiling_connections, args.ceiling_seconds
            )
        )
        ceiling.per_round.append(rate)
        ceiling.latencies += latencies
        ceiling.statuses.update(statuses)
        order = sides if number % 2 == 0 else sides[::-1]
        for index in range(len(args.concurrency)):
            for side in order:
                label = f"{side.name}, " if baseline else ""
                _measure(side, side.levels[index], rate, label)
            if baseline:
                mine, theirs = (side.levels[index].per_round[-1] for side in sides)
                paired[index].append(mine / (theirs or 1))

    print()
    if baseline:
        _comparison(sides, ceiling, args.ceiling_connections, paired)
    else:
        _table(current, ceiling)
    print()
    _cpu_table(sides, bool(baseline))
    if not baseline:
        return True
    if all(set(level.statuses) == {201} for side in sides for level in side.levels):
        return True
    print("FAILED: not every answer was 201")
    return False


def _table(side: Side, ceiling: Target) -> None:
    print("| target | per s | p50 ms | p99 ms | x bare ceiling | answers |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {ceiling.name} (16 connections) | {statistics.median(ceiling.per_round):,.0f} | "
        f"{percentile(ceiling.latencies, 0.5):.1f} | {percentile(ceiling.latencies, 0.99):.1f} | "
        f"1 | {dict(ceiling.statuses)} |"
    )
    for level in side.levels:
        print(
            f"| checkout, {level.concurrency} concurrent buyers "
            f"| {statistics.median(level.per_round):.1f} "
            f"| {percentile(level.latencies, 0.5):.1f} | {percentile(level.latencies, 0.99):.1f} "
            f"| {statistics.median(level.ratios):.4f} | {dict(level.statuses)} |"
        )


def _comparison(
    sides: list[Side], ceiling: Target, ceiling_connections: int, paired: list[list[float]]
) -> None:
    current, baseline = sides
    print(
        f"{ceiling.name} ({ceiling_connections} connections), current stack: "
        f"{statistics.median(ceiling.per_round):,.0f}/s, "
        f"p50 {percentile(ceiling.latencies, 0.5):.1f} ms, "
        f"p99 {percentile(ceiling.latencies, 0.99):.1f} ms, {dict(ceiling.statuses)}; "
        f"load now {os.getloadavg()[0]:.2f}"
    )
    print()
    print(
        "| concurrent buyers | current checkouts/s | p50 ms | p99 ms "
        f"| {baseline.name} checkouts/s | p50 ms | p99 ms | current / baseline "
        "| answers (current; baseline) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for mine, theirs, ratios in zip(current.levels, baseline.levels, paired, strict=True):
        print(
            f"| {mine.concurrency} | {statistics.median(mine.per_round):.1f} "
            f"| {percentile(mine.latencies, 0.5):.1f} | {percentile(mine.latencies, 0.99):.1f} "
            f"| {statistics.median(theirs.per_round):.1f} "
            f"| {percentile(theirs.latencies, 0.5):.1f} | {percentile(theirs.latencies, 0.99):.1f} "
            f"| {statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)}) "
            f"| {dict(mine.statuses)}; {dict(theirs.statuses)} |"
        )


def _cpu_table(sides: list[Side], named: bool) -> None:
    names = list(sides[0].levels[0].cpu)
    print("CPU ms per checkout (the worker's until it was idle again):")
    print("| concurrency | " + ("stack | " if named else "") + " | ".join(names) + " | total |")
    print("|---" * (len(names) + 2 + named) + "|")
    for index in range(len(sides[0].levels)):
        for side in sides:
            level = side.levels[index]
            done = sum(n for s, n in level.statuses.items() if s == 201) or 1
            print(
                f"| {level.concurrency} | "
                + (f"{side.name} | " if named else "")
                + " | ".join(f"{1000 * level.cpu[n] / done:.1f}" for n in names)
                + f" | {1000 * sum(level.cpu.values()) / done:.1f} |"
            )


def contention(stack: Stack, args: argparse.Namespace) -> bool:
    seed = _seed(stack, stores=1, products=0, stock=0, scarce=args.units, buyers=args.contenders)
    elapsed, latencies, statuses = asyncio.run(
        _checkouts(stack.base_urls, seed["buyers"], args.contenders, at_once=True)
    )
    stock = json.loads(
        stack.manage("shell", "-c", "import json\n" + INVARIANTS.format(scarce=seed["scarce"]))
        .strip()
        .splitlines()[-1]
    )
    fives = sum(n for s, n in statuses.items() if not isinstance(s, int) or s >= 500)
    ok = statuses.get(201, 0) == args.units and not fives
    ok = ok and stock["on_hand"] == stock["reserved"] == stock["held"] == args.units
    print(
        f"# {stack.mode}: {args.contenders} buyers at once for {args.units} units, "
        f"{elapsed:.1f} s, p50 {percentile(latencies, 0.5):.0f} ms, "
        f"p99 {percentile(latencies, 0.99):.0f} ms"
    )
    print(f"answers: {dict(sorted(statuses.items(), key=str))}; 5xx or dropped: {fives}")
    print(f"on hand / reserved / held: {stock['on_hand']} / {stock['reserved']} / {stock['held']}")
    print("contention:", "OK" if ok else "FAILED")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument(
        "--checkouts", type=int, nargs="+", default=[60, 250, 500],
        help="checkouts per round at each concurrency",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--webs", type=int, default=1, help="daphne processes")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0)
    parser.add_argument("--ceiling-connections", type=int, default=16)
    parser.add_argument(
        "--baseline", metavar="REV",
        help="measure the project at this git revision beside this one, in the same rounds",
    )  # fmt: skip
    parser.add_argument("--contention", action="store_true", help="the 200-for-50 check only")
    parser.add_argument("--contenders", type=int, default=200)
    parser.add_argument("--units", type=int, default=50)
    args = parser.parse_args()
    if args.baseline and args.contention:
        parser.error("--baseline compares throughput; --contention runs one stack")
    if len(args.checkouts) != len(args.concurrency):
        parser.error("give one --checkouts number per --concurrency")
    random.seed(1)

    mode = "services" if services_configured() else "embedded"
    with tempfile.TemporaryDirectory(prefix="sudamall-bench-checkout-") as workdir:
        work = Path(workdir)
        stacks = {"current": Stack(mode, work / "current")}
        baseline = ""
        if args.baseline:
            sha = _export(args.baseline, work / "baseline-source")
            baseline = _describe(sha)
            stacks[f"baseline {sha}"] = Stack(
                mode,
                work / "baseline",
                api_dir=work / "baseline-source" / "api",
                redis_dbs=BASELINE_REDIS_DBS,
            )
        for stack in stacks.values():
            stack.workdir.mkdir()
            stack.env.update(
                {
                    **BENCH_ENV,
                    # Emails are rendered, recorded and written to files: no SMTP server here.
                    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                    "EMAIL_FILE_PATH": str(stack.workdir / "emails"),
                    # Each checkout sets a warning timer (window - 5 min; f7279ab an expiry
                    # too): with the default 15 minutes the first would fire in a worker while
                    # the other stack, or a later level, is measured.
                    "PAYMENT_WINDOW_MINUTES": "45",
                }
            )
        ok = True
        try:
            if args.contention:
                stacks["current"].start(webs=args.webs)
                ok = contention(stacks["current"], args)
            else:
                pairs = list(zip(args.concurrency, args.checkouts, strict=True))
                sides = [
                    Side(name, stack, [Level(c, n) for c, n in pairs])
                    for name, stack in stacks.items()
                ]
                ok = throughput(sides, args, baseline)
        finally:
            for stack in stacks.values():
                stack.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
