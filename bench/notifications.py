"""A newsletter campaign to 10,000 subscribed users: how long materialising the recipients
takes, how fast the batches send through the locmem backend (emails/s), and how many queries
each email costs — the campaign's own (let out, pick, hold back) and ``services.deliver``'s
(claim, load, record, render, mark sent) — with where the time goes (rendering, composing).

The campaign uses the seeded Arabic newsletter template (as ``seed_email_templates`` writes it:
the layout, the Sudamall stylesheet inlined, the logo as a ``cid:`` image), so each email is
rendered and built as it would be in production; only the SMTP server is replaced (locmem).

Its own database, made fresh each run: on SQLite ``var/bench-notifications-sqlite/``, with
--services the MariaDB database ``sudamall_bench_notifications`` (made through the app user,
else root@ without a password, and granted to the app user) — never the development database,
``test_*`` or the integration stacks'.

    .venv/bin/python bench/notifications.py                   # SQLite, 10,000 users
    DATABASE_URL=mysql://sudamall:sudamall@127.0.0.1:3306/sudamall \\
        .venv/bin/python bench/notifications.py --services

Not a test: it prints figures; correctness is the suite's (notifications/tests/test_campaigns.py).
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "api"))

BENCH_DATABASE = "sudamall_bench_notifications"


from benchdb import admin_connection  # noqa: E402 - beside this script

# --- the environment, before Django starts ------------------------------------------------------


def prepare_environment(args: argparse.Namespace) -> None:
    """Settings from the environment, pointed at the bench's own fresh database; production-like
    (DEBUG off), email to the locmem backend, the batch size asked for."""
    for name in ("DB_NAME", "CELERY_BROKER_URL", "REDIS_URL", "ELASTICSEARCH_URL"):
        os.environ.pop(name, None)
    var = ROOT / "var" / f"bench-notifications-{'mariadb' if args.services else 'sqlite'}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "api.settings",
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "DEBUG": "false",
            "SECRET_KEY": "bench-notifications-secret-key-that-is-at-least-32-bytes-long",
            "ALLOWED_HOSTS": "localhost",
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_MANIFEST": "false",
            "LOG_TO_FILE": "false",
            "LOG_FORMAT": "console",
            "LOG_LEVEL": "WARNING",
            "SUDAMALL_VAR_DIR": str(var),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "CAMPAIGN_BATCH_SIZE": str(args.batch),
        }
    )
    if not args.services:
        os.environ.pop("DATABASE_URL", None)
        for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
            (var / name).unlink(missing_ok=True)
        return
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("mysql"):
        sys.exit("--services needs DATABASE_URL (mysql://…)")
    url = urlsplit(database)
    conn = admin_connection(url, BENCH_DATABASE)
    try:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{BENCH_DATABASE}`")
        conn.cursor().execute(
            f"CREATE DATABASE `{BENCH_DATABASE}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    finally:
        conn.close()
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{BENCH_DATABASE}"))


# --- figures ------------------------------------------------------------------------------------


class Stopwatch:
    """Wraps a function of a module: the calls, the seconds inside and (when ``count_queries``)
    the statements they ran."""

    def __init__(self, module: Any, name: str, *, count_queries: bool = False) -> None:
        self.module, self.name, self.count_queries = module, name, count_queries
        self.original: Callable = getattr(module, name)
        self.calls, self.seconds, self.queries = 0, 0.0, 0

    def __enter__(self) -> "Stopwatch":
        from django.db import connection

        def timed(*args: Any, **kwargs: Any) -> Any:
            before = len(connection.queries_log) if self.count_queries else 0
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1
                if self.count_queries:
                    self.queries += len(connection.queries_log) - before

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, self.name, self.original)


def newsletter_template() -> Any:
    """The seeded Arabic newsletter, made as ``notifications.seeds.seed`` makes it (the layout,
    the stylesheet, the logo); only this one, so a seed problem elsewhere can't stop the bench."""
    from notifications import seeds
    from notifications.models import Asset, Language, Template

    parts = seeds._parts("newsletter", Language.ARABIC)
    assert parts is not None, "no seeded Arabic newsletter"
    subject, content, text = parts
    layout = (seeds.HERE / "layout.html").read_text()
    style = seeds._asset(
        Asset.Kind.STYLE,
        seeds.STYLE_NAME,
        (seeds.HERE / seeds.STYLE_NAME).read_bytes(),
        "text/css",
    )
    logo = seeds._asset(Asset.Kind.IMAGE, seeds.LOGO_NAME, seeds._logo(), "image/png")
    template = Template.objects.create(
        name="newsletter.ar",
        kind="newsletter",
        language=Language.ARABIC,
        subject=subject,
        text=text,
        html=layout.replace("{{ LANG }}", Language.ARABIC)
        .replace("CONTENT", content)
        .replace("FOOTER", seeds.MARKETING_FOOTER[Language.ARABIC]),
    )
    template.styles.set([style])
    template.images.set([logo])
    return template


def measured(call: Callable[[], Any]) -> tuple[Any, float, int]:
    """``call()``'s result, seconds and statements (counted by CaptureQueriesContext, which
    turns the query log on with DEBUG off; the log is emptied first and must not fill up)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - started
    if len(connection.queries_log) == connection.queries_log.maxlen:
        sys.exit("the query log filled up: a smaller --batch or --chunk")
    return result, seconds, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="subscribed users")
    parser.add_argument("--batch", type=int, default=500, help="CAMPAIGN_BATCH_SIZE")
    parser.add_argument("--chunk", type=int, default=5_000, help="recipients materialised a run")
    parser.add_argument("--services", action="store_true", help="MariaDB (DATABASE_URL)")
    args = parser.parse_args()
    prepare_environment(args)

    import django

    django.setup()
    Bench(args).run()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[tuple[str, ...]] = []

    def setup(self) -> Any:
        from django.contrib.auth.hashers import make_password
        from django.core.management import call_command
        from django.utils import timezone

        from accounts.models import User
        from notifications.models import Subscriber

        call_command("migrate", verbosity=0)
        template = newsletter_template()
        started = time.perf_counter()
        password = make_password("bench-password-123")
        now = timezone.now()
        User.objects.bulk_create(
            (
                User(
                    email=f"buyer{n}@example.com",
                    password=password,
                    first_name=f"Buyer{n}",
                    language="ar" if n % 3 else "en",
                    is_email_verified=True,
                )
                for n in range(self.args.users)
            ),
            batch_size=1000,
        )
        Subscriber.objects.bulk_create(
            (
                Subscriber(
                    address=email,
                    user_id=pk,
                    status=Subscriber.Status.SUBSCRIBED,
                    confirmed_at=now,
                )
                for pk, email in User.objects.values_list("pk", "email").iterator()
            ),
            batch_size=1000,
        )
        print(
            f"{self.args.users:,} subscribed users made in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        return template

    def describe(self) -> str:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SELECT VERSION()"
            )
            version = cursor.fetchone()[0]
        vendor = (
            f"SQLite {version}"
            if connection.vendor == "sqlite"
            else f"MariaDB {version.split('-')[0]}"
        )
        return (
            f"{vendor}, {os.cpu_count()} cores, {date.today()}: {self.args.users:,} subscribed "
            f"users, CAMPAIGN_BATCH_SIZE {self.args.batch}, materialised {self.args.chunk:,} a "
            f"run, locmem backend; load average {os.getloadavg()[0]:.2f}"
        )

    def run(self) -> None:
        from django.core import mail
        from django.utils import timezone

        from notifications import campaigns, services
        from notifications.models import Campaign

        template = self.setup()
        print(f"\n# {self.describe()}\n", flush=True)
        campaign = campaigns.create_campaign(
            template_id=template.pk,
            filters={"account_type": "buyer", "is_active": True},
            scheduled_at=timezone.now(),
            rate_per_minute=campaigns.MAX_RATE_PER_MINUTE,
        )
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.SENDING, started_at=timezone.now()
        )
        campaign.refresh_from_db()

        # Materialising: the recipient query and the bulk inserts, a chunk per run.
        materialised = seconds = queries = 0
        while True:
            made, spent, ran = measured(
                lambda: campaigns.materialise(campaign, now=timezone.now(), limit=self.args.chunk)
            )
            materialised, seconds, queries = materialised + made, seconds + spent, queries + ran
            if made < self.args.chunk:
                break
        self.row("materialise (`campaigns.materialise`)", materialised, seconds, queries)

        # Sending: batch after batch as the beat's runs would, the rate out of the way.
        mail.outbox = []
        sent = seconds = queries = 0
        with (
            Stopwatch(campaigns.services, "deliver", count_queries=True) as deliver,
            Stopwatch(services, "render_email") as render,
            Stopwatch(services, "compose") as compose,
        ):
            while True:
                batch, spent, ran = measured(
                    lambda: campaigns.send_batch(campaign, now=timezone.now())
                )
                sent, seconds, queries = sent + batch, seconds + spent, queries + ran
                if not batch:
                    break
        self.row("send (`campaigns.send_batch`), all", sent, seconds, queries)
        self.row("… in `services.deliver`", deliver.calls, deliver.seconds, deliver.queries)
        self.row("… … rendering (`render_email`)", render.calls, render.seconds, None)
        self.row("… … composing the MIME message (`compose`)", compose.calls, compose.seconds, None)
        self.row(
            "… the campaign's own (let out, pick, hold back)",
            sent,
            seconds - deliver.seconds,
            queries - deliver.queries,
        )
        finished = campaigns.run_campaign(campaign_id=campaign.pk).finished
        self.report(sent=sent, seconds=seconds, finished=finished)
        self.preview()

    def preview(self) -> None:
        """The staff preview over every user: grouped by three fields, each a subquery or a
        column, with a subquery filter."""
        from notifications import segments

        filters = {"total_spent": {"lt": "1000"}, "last_purchase_at": {"isnull": True}}
        group_by = ["city", "cart_state", "account_type"]
        segments.preview(filters, group_by)  # warm
        (groups, _), seconds, queries = measured(lambda: segments.preview(filters, group_by))
        print(
            f"\nSegment preview over {self.args.users:,} users, filtered on total_spent and "
            f"last_purchase_at, grouped by {', '.join(group_by)}: {seconds * 1000:.0f} ms, "
            f"{queries} query, {len(groups)} group(s) of {sum(g['count'] for g in groups):,}."
        )

    def row(self, what: str, count: int, seconds: float, queries: int | None) -> None:
        per = f"{seconds / count * 1000:.2f}" if count else "-"
        if queries is None:
            self.rows.append((what, f"{count:,}", f"{seconds:.2f}", per, "-", "-"))
        else:
            per_query = f"{queries / count:.2f}" if count else "-"
            self.rows.append((what, f"{count:,}", f"{seconds:.2f}", per, f"{queries:,}", per_query))

    def report(self, *, sent: int, seconds: float, finished: bool) -> None:
        from django.core import mail

        from notifications import campaigns

        print("| step | emails | seconds | ms per email | queries | queries per email |")
        print("|---|---|---|---|---|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")
        counted = campaigns.list_campaigns().get()
        recipients = {address for message in mail.outbox for address in message.to}
        print(
            f"\nSend rate: {sent / seconds:,.0f} emails/s through `campaigns.send_batch` "
            f"(batches of {self.args.batch}).\nChecked: {len(mail.outbox):,} messages to "
            f"{len(recipients):,} addresses; counters total {counted.recipients:,}, sent "
            f"{counted.sent:,}, waiting {counted.waiting}; status "
            f"{'finished' if finished else 'NOT finished'}."
        )
        if len(mail.outbox) != len(recipients) or counted.sent != self.args.users:
            sys.exit("a recipient was missed or sent twice")


if __name__ == "__main__":
    main()
