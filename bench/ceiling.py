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
``CATALOGUE_CACHE_SECONDS``); "cold" ones add a new query parameter (``_b={n}``, a counter) to
every request, so every request misses the shared answer, which is keyed by the whole URL, and
reads its page from the database, as the first request after a change does (what the catalogue
keeps for a second whatever the URL, the match count and the open stores, is still shared). The
throttles run (their rates raised so the generator isn't refused).

``--baseline REV``: the same reads against the project as it was at git revision REV, in the
same run. REV is exported (``git archive``) to a temporary folder and a second stack runs from
its ``api/`` (same virtualenv; its own database, and in services mode Redis databases 14 and 15
instead of 12 and 13). Both stacks are started and loaded with the same ``demo_data --products N
--force`` at the same time; the header gives each one's product, store and category counts and
the product (the newest on sale), category and user its targets use, looked up on that stack.
The signed-in targets' token is signed with the ``SECRET_KEY`` both stacks run with
(``core.tests.stack.token_for``); each stack must answer ``/api/accounts/me/`` with that user
before anything is measured. Each round, in its shuffled order, measures every target on both
stacks one after the other, the first of the two alternating from round to round; the two
ceiling views (``/bench/``) exist only in the current code and are measured on the current stack
alone. The table gives each stack's requests/s (median of the rounds), p50 and p99, the current
stack's share of the ceiling, and current / baseline: the median of the rounds' ratios, each
taken within one round (the rounds' own in brackets). Both stacks get the same requests,
``_b={n}`` included: a revision without the catalogue cache (f7279ab) does the whole read for
every request, so there "warm" and "cold" name the same work. Every answer on both stacks must be
200 (no target sends ``If-None-Match``, so no 304 is expected); the answers are printed per
stack and the run exits 1 otherwise.

    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1:3306/sudamall \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/ceiling.py --products 2000
    ... --webs 2     # two daphne processes, connections spread over both (as behind nginx)
    ... --baseline f7279ab    # beside the code of f7279ab (about 10 minutes at 3 rounds)
    ... --only stores --only categories    # those targets alone (and the bare ceiling)

The generator shares the machine's cores with the server: read the ratios, not the absolutes.
"""

import argparse
import asyncio
import collections
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from core.tests.stack import Stack, services_configured, token_for

ROOT = Path(__file__).resolve().parent.parent

# The baseline stack's Redis databases (broker and channel layer; cache), flushed when it starts:
# not the current stack's 12 and 13 (bench/checkout.py --baseline uses the same two).
BASELINE_REDIS_DBS = (14, 15)


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


# What the targets need, looked up on each stack (the same query at f7279ab and today): the
# newest product on sale (live, in an open store), the first category (and how many products on
# sale it and its subcategories hold), the first buyer; the counts for the header; and where the
# stack's code is, to check it runs the side's copy.
FACTS = """
import json
import orders
from accounts.models import User
from products.models import Category, Product
from stores.models import Store
live = Product.objects.filter(
    deleted_at__isnull=True, store__is_active=True, store__deleted_at__isnull=True
)
p = live.order_by("-id").first()
c = Category.objects.order_by("id").first()
u = User.objects.filter(is_staff=False).order_by("id").first()
print(json.dumps({
    "product": p.pk, "category": c.slug, "user": u.pk,
    "in_category": live.filter(category__path__startswith=c.path).count(),
    "products": Product.objects.count(), "on_sale": live.count(),
    "stores": Store.objects.count(), "categories": Category.objects.count(),
    "code": orders.__file__,
}))
"""


@dataclass
class Side:
    """One stack under test, its catalogue's facts and its targets."""

    name: str
    stack: Stack
    facts: dict = field(default_factory=dict)
    plan: list[Target] = field(default_factory=list)
    token: str = ""
    up_in: float = 0.0  # seconds: started and loaded


def _prepare(side: Side, webs: int, products: int) -> None:
    """Start the side's stack, load the catalogue, look up what its targets use."""
    started = time.perf_counter()
    side.stack.start(webs=webs)
    side.stack.manage("demo_data", "--products", str(products), "--force")
    side.facts = json.loads(side.stack.manage("shell", "-c", FACTS).strip().splitlines()[-1])
    side.up_in = time.perf_counter() - started
    code = Path(side.facts["code"]).resolve()
    if not code.is_relative_to(side.stack.api_dir.resolve()):
        raise RuntimeError(f"{side.name} runs {code}, not code under {side.stack.api_dir}")
    side.token = token_for(side.facts["user"])
    side.plan = targets(side.facts["product"], side.facts["category"])


def _check_token(side: Side) -> str:
    """Whom the stack takes the side's token for ('' if it is the side's user)."""
    answer = httpx.get(
        side.stack.base_url + "/api/accounts/me/",
        headers={"Authorization": f"Bearer {side.token}", "Accept": "application/json"},
        timeout=30,
    )
    if answer.status_code == 200 and answer.json().get("id") == side.facts["user"]:
        return ""
    return f"{side.name}: /api/accounts/me/ answered {answer.status_code} {answer.text[:200]}"


def current_only(target: Target) -> bool:
    """The bench-only ceiling views: mounted by the current code alone."""
    return target.path.startswith("/bench/")


def chosen(target: Target, only: list[str]) -> bool:
    """Measured under ``--only``: the bare ceiling always (every share is taken of it)."""
    return not only or target.path == "/bench/ceiling/" or any(t in target.name for t in only)


def _export(revision: str, into: Path) -> str:
    """The project at ``revision`` written to ``into`` (``git archive``); its commit's short id."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "--verify", f"{revision}^{{commit}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    into.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", sha], stdout=subprocess.PIPE)
    assert archive.stdout is not None
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {sha} failed")
    return sha


def _describe(revision: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h, %cs", revision],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def _working_tree() -> str:
    changed = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "api"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    paths = ", ".join(line[3:] for line in changed[:6]) + (", …" if len(changed) > 6 else "")
    return f"the working tree at {_describe('HEAD')}" + (
        f", {len(changed)} path(s) under api/ changed ({paths})" if changed else ""
    )


def _measure(side: Side, target: Target, connections: int, seconds: float) -> int:
    rate, latencies, statuses = asyncio.run(
        _drive(side.stack.base_urls, target, side.token, connections, seconds)
    )
    target.per_round.append(rate)
    target.latencies += latencies
    target.statuses.update(statuses)
    return rate


def _facts_line(side: Side) -> str:
    facts = side.facts
    return (
        f"{facts['products']} products ({facts['on_sale']} on sale), {facts['stores']} stores, "
        f"{facts['categories']} categories; targets use product {facts['product']}, category "
        f"{facts['category']!r} ({facts['in_category']} on sale), user {facts['user']}"
    )


def _table(plan: list[Target]) -> None:
    print("| target | requests/s | p50 ms | p99 ms | x bare ceiling | not 200 |")
    print("|---|---|---|---|---|---|")
    for target in plan:
        other = {s: n for s, n in target.statuses.items() if s != 200}
        print(
            f"| {target.name} | {statistics.median(target.per_round):,.0f} | "
            f"{percentile(target.latencies, 0.5):.1f} | {percentile(target.latencies, 0.99):.1f} | "
            f"{statistics.median(target.ratios):.3f} | {other or '-'} |"
        )


def _comparison(sides: list[Side], paired: dict[str, list[float]]) -> None:
    current, baseline = sides
    theirs = {target.name: target for target in baseline.plan}
    print(
        f"| target | current requests/s | p50 ms | p99 ms | x bare ceiling "
        f"| {baseline.name} requests/s | p50 ms | p99 ms | current / baseline "
        "| answers (current; baseline) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mine in current.plan:
        cells = [
            mine.name,
            f"{statistics.median(mine.per_round):,.0f}",
            f"{percentile(mine.latencies, 0.5):.1f}",
            f"{percentile(mine.latencies, 0.99):.1f}",
            f"{statistics.median(mine.ratios):.3f}",
        ]
        other = theirs.get(mine.name)
        if other is None:
            cells += ["-", "-", "-", "- (current code only)", f"{dict(mine.statuses)}; -"]
        else:
            ratios = paired[mine.name]
            cells += [
                f"{statistics.median(other.per_round):,.0f}",
                f"{percentile(other.latencies, 0.5):.1f}",
                f"{percentile(other.latencies, 0.99):.1f}",
                f"{statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)})",
                f"{dict(mine.statuses)}; {dict(other.statuses)}",
            ]
        print("| " + " | ".join(cells) + " |")
    print()
    for side in sides:
        answers: collections.Counter = collections.Counter()
        for target in side.plan:
            answers.update(target.statuses)
        print(f"answers, {side.name}: {dict(sorted(answers.items(), key=str))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--webs", type=int, default=1, help="daphne processes (1 or 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="per target per round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--baseline", metavar="REV",
        help="measure the project at this git revision beside this one, in the same rounds",
    )  # fmt: skip
    parser.add_argument(
        "--only", metavar="TEXT", action="append", default=[],
        help="only the targets whose name holds TEXT (repeatable; the bare ceiling is kept)",
    )  # fmt: skip
    args = parser.parse_args()

    mode = "services" if services_configured() else "embedded"
    with tempfile.TemporaryDirectory(prefix="sudamall-bench-http-") as workdir:
        work = Path(workdir)
        sides = [Side("current", Stack(mode, work / "current"))]
        baseline = ""
        if args.baseline:
            sha = _export(args.baseline, work / "baseline-source")
            baseline = _describe(sha)
            sides.append(
                Side(
                    f"baseline {sha}",
                    Stack(
                        mode,
                        work / "baseline",
                        api_dir=work / "baseline-source" / "api",
                        redis_dbs=BASELINE_REDIS_DBS,
                    ),
                )
            )
        for side in sides:
            side.stack.workdir.mkdir()
            side.stack.env.update(BENCH_ENV)
        current = sides[0]
        paired: dict[str, list[float]] = collections.defaultdict(list)  # current / baseline
        try:
            with ThreadPoolExecutor(len(sides)) as pool:  # start and load both stacks at once
                ready = [pool.submit(_prepare, side, args.webs, args.products) for side in sides]
            for future in ready:
                future.result()
            for side in sides:
                side.plan = [target for target in side.plan if chosen(target, args.only)]
            if baseline:
                for side in sides[1:]:  # the ceiling views aren't mounted there
                    side.plan = [target for target in side.plan if not current_only(target)]
            products = " and ".join(str(side.facts["products"]) for side in sides)
            print(
                f"# {mode}, {args.webs} web process(es), {products} products, "
                f"{args.connections} connections, {args.rounds} rounds x {args.seconds:g} s, "
                f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} "
                f"(stack{'s' if baseline else ''} up in "
                f"{' and '.join(f'{side.up_in:.0f}' for side in sides)} s)"
            )
            if baseline:
                print(f"# current: {_working_tree()}")
                print(f"#   {_facts_line(current)}")
                print(f"# {sides[1].name}: {baseline}")
                print(f"#   {_facts_line(sides[1])}")
                cached = (sides[1].stack.api_dir / "core" / "http_cache.py").exists()
                print(
                    "# both stacks get the same requests (cold ones with a new _b={n} each); "
                    + (
                        "both have the catalogue cache (core/http_cache.py)"
                        if cached
                        else "the baseline has no catalogue cache (no core/http_cache.py):\n"
                        "#   every request of it reads from the database, so its warm and cold "
                        "targets do the same work"
                    )
                )
            refused = [problem for side in sides if (problem := _check_token(side))]
            if refused:
                print("FAILED: a stack refused its signed-in token:", *refused, sep="\n")
                sys.exit(1)
            for side in sides:  # warm up every path once (imports, the ceiling's payload)
                for target in side.plan:
                    asyncio.run(_drive(side.stack.base_urls, target, side.token, 2, 0.5))
            for number in range(args.rounds):
                for side in sides:  # a token lasts 10 minutes: a new one each round
                    side.token = token_for(side.facts["user"])
                order = current.plan[:]
                random.shuffle(order)
                measured = {}
                by_name = [{target.name: target for target in side.plan} for side in sides]
                stacks = list(zip(sides, by_name, strict=True))
                if number % 2:  # the baseline first every other round
                    stacks.reverse()
                for target in order:
                    rates = {}
                    for side, theirs in stacks:
                        if target.name in theirs:
                            rates[side.name] = _measure(
                                side, theirs[target.name], args.connections, args.seconds
                            )
                    measured[target.name] = rates[current.name]
                    if len(rates) == 2:
                        mine, other = (rates[side.name] for side in sides)
                        paired[target.name].append(mine / (other or 1))
                ceiling = measured[current.plan[0].name] or 1
                for target in current.plan:
                    target.ratios.append(measured[target.name] / ceiling)
                if baseline:
                    print(
                        f"# round {number + 1} of {args.rounds} done, load "
                        f"{os.getloadavg()[0]:.2f}",
                        flush=True,
                    )
        finally:
            for side in sides:
                side.stack.stop()

    print()
    if not baseline:
        _table(current.plan)
        return
    _comparison(sides, paired)
    if any(set(t.statuses) != {200} for side in sides for t in side.plan):
        print("FAILED: not every answer was 200")
        sys.exit(1)


if __name__ == "__main__":
    main()
