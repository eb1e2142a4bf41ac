"""Search at catalogue size: the search engine (search.services and the HTTP API, in-process)
against the substring match ``?search=`` was before it (``icontains`` on name and description,
newest first, as at 8c03512), on the same data, in the same run, interleaved in rounds; the
suggestions; and how long a product edit takes to become findable when a real Celery worker
drains the index feed.

Its own database, kept between runs for --reuse: on SQLite ``var/bench-search-sqlite/`` (with
the file broker beside it), with --services the MariaDB database ``sudamall_bench_search`` (made
through the app user, else root@ without a password, and granted to the app user) and Redis
databases 14 (broker) and 15 (cache) — never the development database, ``test_*`` or the
integration stacks' indexes.

    .venv/bin/python bench/search.py                 # SQLite, builds 50,000 products
    .venv/bin/python bench/search.py --reuse         # the catalogue the last run left
    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1:3306/sudamall \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/search.py --services --reuse

Not a test: it prints figures; correctness is the suite's (search/tests).
"""

# ruff: noqa: RUF001, RUF003 — shoppers' Arabic spellings are this file's data, as in api/search.

import argparse
import contextlib
import cProfile
import io
import math
import os
import pstats
import random
import signal
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
API_DIR = ROOT / "api"
sys.path.insert(0, str(API_DIR))

BENCH_DATABASE = "sudamall_bench_search"
# Test workers take Redis databases 0-11, the integration stacks 12 and 13.
BROKER_INDEX, CACHE_INDEX = 14, 15
SEARCH_TARGET_P95, SUGGEST_TARGET_P95 = 0.100, 0.050
NEW_WORD_PREFIX = "zqbench"  # the words the freshness edits add to names
# What MariaDB's ANALYZE shows of a plan: rows estimated, read (r_rows) and kept (r_filtered, %).
PLAN_COLUMNS = ("id", "select_type", "table", "type", "key", "rows", "r_rows", "r_filtered",
                "Extra")  # fmt: skip

# What shoppers type, by kind. Every word is one the demo catalogue sells
# (products/management/demo_catalogue.py), spelt the way a phone keyboard gives it.
SEARCHES = [
    # Arabic without hamza, with ه for ة, with diacritics, with digits of either script.
    ("arabic", "جلابيه"),
    ("arabic", "حنا"),
    ("arabic", "تمر قنديله"),
    ("arabic", "شاي احمر"),
    ("arabic", "حله المونيوم"),
    ("arabic", "اقماع حنه"),
    ("arabic", "تَمْر"),
    ("arabic", "بُنّ الجَبَنة"),
    ("arabic", "حِنَّاء"),
    ("arabic", "سامسونج"),
    ("arabic", "مبخر"),
    ("arabic", "عنقريب"),
    ("arabic", "كركدي"),
    ("arabic", "نوكيا 105"),
    ("arabic", "لوح طاقه شمسيه"),
    ("arabic", "جلابيه اطفال"),
    # English, one word and two.
    ("english", "jalabiya"),
    ("english", "dates"),
    ("english", "henna"),
    ("english", "sandals"),
    ("english", "coffee"),
    ("english", "perfume"),
    ("english", "charger"),
    ("english", "basket"),
    ("two words", "cotton jalabiya"),
    ("two words", "leather sandals"),
    ("two words", "solar panel"),
    ("two words", "red tea"),
    ("two words", "power bank"),
    ("two words", "gum arabic"),
    ("two words", "samsung galaxy"),
    # One edit away from a catalogue word.
    ("typo", "samsng"),
    ("typo", "jalabya"),
    ("typo", "sandls"),
    ("typo", "cofee"),
    ("typo", "lether sandals"),
    ("typo", "perfune"),
    ("typo", "hena"),
    ("typo", "سامسونغ"),
    ("typo", "عنقرب"),
    ("typo", "فانوص شمسي"),
    # Still being typed.
    ("prefix", "jal"),
    ("prefix", "sam"),
    ("prefix", "sol"),
    ("prefix", "cott"),
    ("prefix", "leat"),
    ("prefix", "جلا"),
    ("prefix", "تم"),
    ("prefix", "بخ"),
    ("prefix", "مرك"),
    # Nothing of the kind is sold: every typo path runs and finds nothing.
    ("none", "playstation"),
    ("none", "laptop bag"),
]

# The first keystrokes of catalogue words, and short typos.
SUGGESTS = [
    *("s", "sa", "sam", "sams", "j", "ja", "jal", "jala", "h", "he", "hen", "henn"),
    *("c", "co", "cot", "coff", "l", "le", "lea", "leat", "so", "sol", "sola"),
    *("ج", "جل", "جلا", "جلاب", "ت", "تم", "تمر", "ب", "بخ", "بخو", "حن", "حنا"),
    *("س", "سا", "سام", "سامس", "ع", "عن", "عنق"),
    *("hena", "toob", "nokya", "jebna", "samsng", "عنقرب"),
]


from benchdb import admin_connection  # noqa: E402 - beside this script

# --- the environment, before Django starts ------------------------------------------------------


def prepare_environment(args: argparse.Namespace) -> None:
    """Settings from the environment, pointed at the bench's own database, broker and cache;
    production-like (DEBUG off: no query log), throttles out of the way of one client."""
    for name in ("DB_NAME", "CELERY_BROKER_URL", "ELASTICSEARCH_URL", "SEARCH_BACKEND"):
        os.environ.pop(name, None)
    var = ROOT / "var" / f"bench-search-{'mariadb' if args.services else 'sqlite'}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "api.settings",
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "DEBUG": "false",
            "SECRET_KEY": "bench-search-secret-key-that-is-at-least-32-bytes-long",
            "ALLOWED_HOSTS": "localhost",
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_MANIFEST": "false",
            "LOG_TO_FILE": "false",
            "LOG_FORMAT": "console",
            "LOG_LEVEL": "WARNING",
            "SUDAMALL_VAR_DIR": str(var),
            "THROTTLE_ANON_RATE": "1000000/min",
            "THROTTLE_SUGGEST_RATE": "1000000/min",
        }
    )
    if not args.services:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
        if not args.reuse:
            for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "celery-broker.sqlite3"):
                (var / name).unlink(missing_ok=True)
        return
    database, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database.startswith("mysql") or not redis_url:
        sys.exit("--services needs DATABASE_URL (mysql://…) and REDIS_URL")
    url = urlsplit(database)
    conn = admin_connection(url, BENCH_DATABASE)
    try:
        if not args.reuse:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{BENCH_DATABASE}`")
        conn.cursor().execute(
            f"CREATE DATABASE IF NOT EXISTS `{BENCH_DATABASE}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    finally:
        conn.close()
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{BENCH_DATABASE}"))
    os.environ["REDIS_URL"] = urlunsplit(urlsplit(redis_url)._replace(path=f"/{BROKER_INDEX}"))
    os.environ["REDIS_CACHE_URL"] = urlunsplit(urlsplit(redis_url)._replace(path=f"/{CACHE_INDEX}"))
    import redis

    for index in (BROKER_INDEX, CACHE_INDEX):
        redis.Redis.from_url(urlunsplit(urlsplit(redis_url)._replace(path=f"/{index}"))).flushdb()


# --- figures ------------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds over every query")
    parser.add_argument("--fresh", type=int, default=15, help="edits timed until findable")
    parser.add_argument("--services", action="store_true", help="MariaDB + Redis")
    parser.add_argument("--reuse", action="store_true", help="keep the last run's catalogue")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument("--explain", action="store_true", help="diagnose even when on target")
    args = parser.parse_args()
    prepare_environment(args)

    import django

    django.setup()
    Bench(args).run()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        from django.test import Client

        self.args = args
        self.client = Client(HTTP_HOST="localhost")
        self.rng = random.Random(2026)
        self.requests = 0

    # --- the catalogue ---

    def catalogue(self) -> None:
        from django.core.management import call_command

        from products.models import Product
        from products.services import catalog
        from search import feed, services
        from search.models import PopularQuery, SearchDocument, SearchQuery
        from search.query import normalized_query

        call_command("migrate", verbosity=0)
        have = Product.objects.count()
        if have and have != self.args.products:
            sys.exit(
                f"the bench database holds {have} products, not {self.args.products}: "
                "run without --reuse to rebuild it"
            )
        if not have:
            print(f"building {self.args.products} products (demo_data)…", flush=True)
            seconds, _ = timed(
                lambda: call_command("demo_data", products=self.args.products, force=True)
            )
            print(f"built in {seconds:.0f} s", flush=True)
        # What an interrupted run may have left: renamed products, undrained changes.
        for product in Product.objects.filter(name__contains=f" {NEW_WORD_PREFIX}"):
            name = product.name.split(f" {NEW_WORD_PREFIX}")[0]
            catalog.update_product(product=product, user=product.store.owner, data={"name": name})
        feed.drain()
        # A query log in which shoppers have searched each of these enough for it to be a
        # popular query (what suggestions of kind "query" come from), as the hourly task keeps.
        SearchQuery.objects.all().delete()
        PopularQuery.objects.all().delete()
        SearchQuery.objects.bulk_create(
            SearchQuery(text=normalized_query(text), results=1, backend="database", latency_ms=0)
            for _, text in SEARCHES
            for _ in range(services.POPULAR_MIN_SEARCHES)
        )
        services.refresh_popular_queries()
        self.documents = SearchDocument.objects.count()

    def describe(self) -> str:
        from django.db import connection

        from products.models import Product
        from search.models import Posting, Term

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SELECT VERSION()"
            )
            version = cursor.fetchone()[0]
            vendor = f"SQLite {version}"
            if connection.vendor == "mysql":
                cursor.execute("SELECT @@innodb_buffer_pool_size")
                pool = int(cursor.fetchone()[0]) // 2**20
                vendor = f"MariaDB {version.split('-')[0]} (buffer pool {pool} MiB)"
        return (
            f"{vendor}, {os.cpu_count()} cores, {date.today()}: "
            f"{Product.objects.count()} products, {self.documents} documents, "
            f"{Posting.objects.count()} postings, {Term.objects.count()} terms"
        )

    # --- the paths measured ---

    def shopper(self) -> str:
        """A client address from a thousand, in turn: many shoppers, each within the per-IP
        rates, so the throttles cost what they cost in life (one short history per address)."""
        self.requests += 1
        return f"10.0.{self.requests // 250 % 4}.{self.requests % 250 + 1}"

    def icontains(self, text: str) -> int:
        """What ``?search=`` ran before the engine: a substring match, newest first, a page of
        20 and its COUNT."""
        from django.db.models import Q

        from products.models import Product
        from products.selectors import on_sale

        products = (
            Product.objects.filter(on_sale())
            .filter(Q(name__icontains=text) | Q(description__icontains=text))
            .order_by("-created_at", "-id")
        )
        list(products[:20])
        return products.count()

    def engine(self, text: str) -> int:
        from search import services
        from search.query import SearchRequest

        return services.search_products(request=SearchRequest(text=text)).result.count

    def http(self, path: str, params: dict[str, str]) -> int:
        response = self.client.get(path, params, REMOTE_ADDR=self.shopper())
        assert response.status_code == 200, (path, params, response.content[:300])
        return response.json().get("count", 0)

    def http_before(self, text: str) -> int:
        from products import apis

        with mock.patch.object(apis, "list_response", list_response_before):
            return self.http("/api/products/", {"search": text})

    def http_search(self, text: str) -> int:
        return self.http("/api/search/products/", {"q": text})

    def suggest(self, text: str) -> int:
        from search import services

        return len(services.suggest(text=text, size=10))

    def http_suggest(self, text: str) -> int:
        response = self.client.get("/api/search/suggest/", {"q": text}, REMOTE_ADDR=self.shopper())
        assert response.status_code == 200, (text, response.content[:300])
        return len(response.json()["suggestions"])

    # --- timing, interleaved ---

    SEARCH_PATHS = ("icontains", "engine", "http_before", "http_search")
    SUGGEST_PATHS = ("suggest", "http_suggest")
    LABELS = {
        "icontains": "icontains + COUNT, page of 20 (before; baseline)",
        "engine": "search.services.search_products (facets, page of 20)",
        "http_before": "GET /api/products/?search= as before (icontains)",
        "http_search": "GET /api/search/products/?q=",
        "suggest": "search.services.suggest (size 10)",
        "http_suggest": "GET /api/search/suggest/?q=",
    }

    def rounds(self) -> None:
        """Every query through every path, round after round; the queries shuffled each round
        and the paths taken in a rotating order, so the machine's slow moments fall on every
        path alike."""
        self.samples: dict[tuple[str, str], list[float]] = {}
        self.found: dict[tuple[str, str], int] = {}
        for number in range(self.args.rounds + 1):  # round 0 warms up and isn't counted
            started = time.monotonic()
            suggestions = [("suggest", text) for text in SUGGESTS]
            for queries, paths in (
                (SEARCHES, self.SEARCH_PATHS),
                (suggestions, self.SUGGEST_PATHS),
            ):
                order = list(queries)
                random.Random(number).shuffle(order)
                for position, (_, text) in enumerate(order):
                    turn = (number + position) % len(paths)
                    for path in paths[turn:] + paths[:turn]:
                        seconds, found = timed(lambda p=path, t=text: getattr(self, p)(t))
                        self.found[(path, text)] = found
                        if number:
                            self.samples.setdefault((path, text), []).append(seconds)
            label = "warm-up" if not number else f"round {number}/{self.args.rounds}"
            print(f"{label}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)

    def pooled(self, path: str) -> list[float]:
        return [s for (p, _), samples in self.samples.items() if p == path for s in samples]

    def paired_ratio(self, path: str, baseline: str) -> float:
        """The median of (this path / the baseline) over the same query in the same round."""
        texts = {t for p, t in self.samples if p == path}
        return statistics.median(
            a / b
            for t in texts
            for a, b in zip(self.samples[(path, t)], self.samples[(baseline, t)], strict=True)
        )

    def report(self) -> bool:
        """The tables; whether every target was met."""
        base = self.pooled("icontains")
        b50, b95 = percentile(base, 0.5), percentile(base, 0.95)
        n = self.args.rounds
        print(
            f"\n{len(SEARCHES)} searches and {len(SUGGESTS)} suggestions × {n} rounds, "
            "interleaved; ratios against icontains measured in the same rounds\n"
        )
        print(
            "| path | p50 ms | p95 ms | max ms | p50 × icontains | p95 × icontains "
            "| paired median × baseline | target (p95) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        met = True
        targets = {
            "engine": SEARCH_TARGET_P95,
            "http_search": SEARCH_TARGET_P95,
            "suggest": SUGGEST_TARGET_P95,
            "http_suggest": SUGGEST_TARGET_P95,
        }
        baselines = {"engine": "icontains", "http_search": "http_before"}
        for path in (*self.SEARCH_PATHS, *self.SUGGEST_PATHS):
            samples = self.pooled(path)
            p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
            paired = f"{self.paired_ratio(path, baselines[path]):.2f}" if path in baselines else "–"
            verdict = "–"
            if path in targets:
                ok = p95 < targets[path]
                met &= ok or path in ("engine", "suggest")  # the targets are the API's
                verdict = f"< {targets[path] * 1000:.0f} ms: {'met' if ok else 'MISSED'}"
            print(
                f"| {self.LABELS[path]} | {ms(p50)} | {ms(p95)} | {ms(max(samples))} "
                f"| {p50 / b50:.2f} | {p95 / b95:.2f} | {paired} | {verdict} |"
            )

        print(
            "\nPaired: each sample over its own baseline (the same query in the same round): "
            "search_products over icontains, GET /api/search/products/ over GET ?search= before."
        )
        print("\nBy kind of query, p50 / p95 ms:\n")
        print(
            "| kind | queries | icontains | search_products | GET ?search= before "
            "| GET /api/search/products/ |"
        )
        print("|---|---|---|---|---|---|")
        for kind in dict.fromkeys(k for k, _ in SEARCHES):
            texts = [t for k, t in SEARCHES if k == kind]
            cells = []
            for path in self.SEARCH_PATHS:
                samples = [s for t in texts for s in self.samples[(path, t)]]
                cells.append(f"{ms(percentile(samples, 0.5))} / {ms(percentile(samples, 0.95))}")
            print(f"| {kind} | {len(texts)} | {' | '.join(cells)} |")
        return met

    def per_query(self) -> list[tuple[float, str]]:
        """Each search's median through each path, slowest first (the HTTP engine path)."""
        print("\nEach search, median ms (found: by the engine / by icontains):\n")
        print("| query | kind | found | icontains | search_products | GET before | GET search |")
        print("|---|---|---|---|---|---|---|")
        rows = []
        for kind, text in SEARCHES:
            medians = [statistics.median(self.samples[(p, text)]) for p in self.SEARCH_PATHS]
            rows.append((medians[3], text, kind, medians))
        rows.sort(reverse=True)
        for _, text, kind, medians in rows:
            found = f"{self.found[('engine', text)]} / {self.found[('icontains', text)]}"
            cells = " | ".join(ms(m) for m in medians)
            print(f"| `{text}` | {kind} | {found} | {cells} |")
        slow_suggest = sorted(
            ((statistics.median(self.samples[("http_suggest", t)]), t) for t in SUGGESTS),
            reverse=True,
        )
        print(
            "\nSlowest suggestions (GET, median ms): "
            + ", ".join(f"`{t}` {ms(m)}" for m, t in slow_suggest[:8])
        )
        self.slow_suggest = slow_suggest
        return [(m, t) for m, t, _, _ in rows]

    # --- where the time goes ---

    def diagnose(self, slow_searches: list[tuple[float, str]]) -> None:
        print("\n## Where the time goes\n")
        for _, text in slow_searches[:3]:
            self.statements("search_products", text, lambda t=text: self.engine(t))
        for _, text in self.slow_suggest[:2]:
            self.statements("suggest", text, lambda t=text: self.suggest(t))
        text = slow_searches[0][1]
        print(f"\nProfile of search_products(`{text}`) × 10, by own time:\n```")
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(10):
            self.engine(text)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(12)
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print("\n".join(line.replace(str(ROOT) + "/", "") for line in lines[start:] if line))
        print("```")

    def statements(self, what: str, text: str, call: Callable[[], Any]) -> None:
        """Each SQL statement of one call, timed, the slowest with its plan."""
        from django.db import connection

        log = StatementLog()
        call()  # warm
        with connection.execute_wrapper(log):
            total, _ = timed(call)
        in_sql = sum(seconds for seconds, _, _ in log.rows)
        print(
            f"\n### {what}(`{text}`): {ms(total)} ms, {len(log.rows)} statements, "
            f"{ms(in_sql)} ms in SQL\n"
        )
        slowest = sorted(log.rows, key=lambda row: row[0], reverse=True)
        for seconds, sql, params in [row for row in slowest if row[1].startswith("SELECT")][:2]:
            print(f"{ms(seconds)} ms:\n```sql\n{interpolate(sql, params)}\n```")
            print("plan:\n```\n" + "\n".join(explain(sql, params)) + "\n```")
        others = ", ".join(ms(seconds) for seconds, _, _ in slowest[2:])
        if others:
            print(f"the other statements, ms: {others}")

    # --- freshness ---

    def freshness(self) -> None:
        """The drain's cost for a batch of edits (in this process), then edit → findable with
        a real worker draining what the edits kick."""
        from products.models import Product
        from products.selectors import on_sale
        from products.services import catalog
        from search import feed
        from search.models import IndexChange, Term

        ids = sorted(Product.objects.filter(on_sale()).values_list("pk", flat=True))
        chosen = self.rng.sample(ids, 200 + self.args.fresh + 1)
        products = Product.objects.select_related("store__owner").in_bulk(chosen)
        originals = {pk: p.name for pk, p in products.items()}

        def rename(pk: int, name: str) -> None:
            product = products[pk]
            products[pk] = catalog.update_product(
                product=product, user=product.store.owner, data={"name": name}
            )

        print("\n## Freshness\n")
        drains: dict[int, list[float]] = {}
        for batch in (1, 1, 1, 20, 20, 20, 200):
            for pk in chosen[:batch]:
                rename(pk, f"{originals[pk]} {token()}")
            seconds, rewritten = timed(feed.drain)
            assert rewritten == batch, (rewritten, batch)
            drains.setdefault(batch, []).append(seconds)
        print("feed.drain() in this process after N edits by catalog.update_product, median:")
        print("\n| edits | drain ms | per product ms |\n|---|---|---|")
        for batch, times in drains.items():
            median = statistics.median(times)
            print(f"| {batch} | {ms(median)} | {ms(median / batch)} |")

        latencies = []
        with celery_worker() as worker:
            for number, pk in enumerate(chosen[200:]):
                word = token()
                rename(pk, f"{originals[pk]} {word}")
                committed = time.perf_counter()
                while not findable(word, pk):
                    if time.perf_counter() - committed > 90:
                        sys.exit(f"not findable after 90 s; worker log:\n{worker.log()}")
                    time.sleep(0.01)
                if number:  # the first waits for the worker to start
                    latencies.append(time.perf_counter() - committed)
                time.sleep(1.5 + self.rng.random())  # past the kick's 1-second window
            for pk in chosen:  # put the catalogue back as it was
                rename(pk, originals[pk])
            deadline = time.monotonic() + 90
            while IndexChange.objects.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        feed.drain()
        # The vocabulary keeps every term it saw; drop this run's words so a reused catalogue
        # searches the same vocabulary each time.
        Term.objects.filter(text__startswith=NEW_WORD_PREFIX).delete()
        broker = "Redis" if self.args.services else "the SQLite file broker (polled every 0.2 s)"
        print(
            f"\nEdit (catalog.update_product returned, committed) → search_products finds "
            f"the new name, with a real worker (`celery worker --pool threads --concurrency 4`,"
            f" as the Procfile) on {broker}; kicked after commit with a 1-second countdown, "
            "no beat; polled every 10 ms:\n"
        )
        print(
            f"{len(latencies)} edits: p50 {percentile(latencies, 0.5):.2f} s, p95 "
            f"{percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s"
        )

    def run(self) -> None:
        self.catalogue()
        header = self.describe()
        print(header, flush=True)
        load = os.getloadavg()[0]
        self.rounds()
        print(f"\n# {header}")
        print(
            f"\nLoad average (1 min) before the rounds {load:.2f}, after {os.getloadavg()[0]:.2f}"
        )
        met = self.report()
        slow = self.per_query()
        if not met or self.args.explain:
            self.diagnose(slow)
        self.freshness()
        if self.args.drop:
            drop_database(self.args.services)


# --- helpers ------------------------------------------------------------------------------------


def list_response_before(
    request: Any, view: Any, filters: dict, store_id: int | None = None
) -> Any:
    """``products.apis.list_response`` as it was at 8c03512: ``?search=`` a case-insensitive
    substring match on name and description, in the list's order (newest first)."""
    from django.db.models import Q

    from core.apis import optional_user, paginate
    from products import selectors
    from products.serializers import ProductSerializer

    products = selectors.list_products(
        user=optional_user(request), filters=filters, store_id=store_id
    )
    if filters.get("search"):
        text = filters["search"]
        products = products.filter(Q(name__icontains=text) | Q(description__icontains=text))
    return paginate(request, view, products, ProductSerializer)


class StatementLog:
    """A connection execute wrapper: each statement's time, SQL and parameters."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, str, Any]] = []

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.rows.append((time.perf_counter() - started, sql, params))


def interpolate(sql: str, params: Any) -> str:
    """The statement with its parameters in place, to read (and paste into a shell)."""
    quoted = tuple(f"'{p}'" if isinstance(p, str) else str(p) for p in (params or ()))
    try:
        return sql % quoted
    except (TypeError, ValueError):
        return f"{sql}  -- {params!r}"


def explain(sql: str, params: Any) -> list[str]:
    """SQLite: EXPLAIN QUERY PLAN as a tree. MariaDB: ANALYZE, the plan with the rows each step
    really read (r_rows) and kept (r_filtered, %)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            depth: dict[int, int] = {0: -1}
            lines = []
            for node, parent, _, detail in cursor.fetchall():
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            return lines
        cursor.execute("ANALYZE " + sql, params)
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        header = " | ".join(PLAN_COLUMNS)
        return [header, *(" | ".join(str(r[c]) for c in PLAN_COLUMNS) for r in rows)]


def token() -> str:
    """A word no catalogue holds: the edited product's new name is found by it alone."""
    return NEW_WORD_PREFIX + "".join(random.choices(string.ascii_lowercase, k=8))


def findable(word: str, product_id: int) -> bool:
    from search import services
    from search.query import SearchRequest

    request = SearchRequest(text=word, facets=False, limit=5)
    return product_id in services.search_products(request=request, log=False).result.ids


class Worker:
    def __init__(self, process: subprocess.Popen, log_path: Path) -> None:
        self.process, self.log_path = process, log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def celery_worker() -> Iterator[Worker]:
    """The worker as the Procfile runs it, on this bench's database and broker."""
    from django.conf import settings

    log_path = Path(settings.VAR_DIR) / "bench-worker.log"
    celery = str(Path(sys.executable).parent / "celery")
    options = "-A api worker -l info --pool threads --concurrency 4 -n bench-search@%h"
    command = [celery, *options.split()]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=API_DIR,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Worker(process, log_path)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def drop_database(services: bool) -> None:
    from django.conf import settings
    from django.db import connection

    connection.close()
    if not services:
        for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "celery-broker.sqlite3"):
            (Path(settings.VAR_DIR) / name).unlink(missing_ok=True)
        return
    conn = admin_connection(urlsplit(os.environ["DATABASE_URL"]), BENCH_DATABASE)
    try:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{BENCH_DATABASE}`")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
