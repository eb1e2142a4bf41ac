"""Times the payment paths against whatever database the environment configures (use a
throwaway one: it migrates it and adds rows). Prints the median of each step and its queries.
Not a test: speed is measured here, correctness by the suite.

    DEBUG=true CELERY_TASK_ALWAYS_EAGER=true DATABASE_URL=sqlite:////tmp/bench.sqlite3 \
        python bench/payments.py --history 50000

1. checkout → create → confirm with the test card, over the full Django stack (20 runs);
2. a signed test-gateway webhook: verify, store, process (eager, so processing is included);
3. GET /api/payments/analytics/ for staff and for a store owner over 30 days, after
   ``--history`` paid orders with their payments and a refund for every tenth are bulk-inserted.
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.settings")
os.environ.setdefault("PAYMENT_TEST_GATEWAY_ENABLED", "true")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from orders.models import Checkout, Order  # noqa: E402
from orders.services.checkout import LineRequest, place_checkout  # noqa: E402
from payments.gateways import test as test_gateway  # noqa: E402
from payments.models import Payment, Refund  # noqa: E402
from products.services import catalog  # noqa: E402
from stores.models import Store  # noqa: E402

ADDRESS = {"full_name": "A", "phone": "+249912345678", "line1": "S", "city": "K", "country": "SD"}


def timed(label: str, runs: int, step: Callable[[int], Any]) -> None:
    timings, counts = [], []
    for index in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            step(index)
            timings.append(time.perf_counter() - started)
        counts.append(len(queries))
    print(
        f"{statistics.median(timings) * 1000:8.1f} ms median "
        f"{statistics.median(counts):5.0f} queries  {label}"
    )


def user(email: str, **extra: Any) -> User:
    found = User.objects.filter(email=email).first()
    return found or User.objects.create_user(email=email, password=None, **extra)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=20000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    owner, buyer = user("bench-owner@example.com"), user("bench-buyer@example.com")
    staff = user("bench-staff@example.com", is_staff=True)
    store = Store.objects.filter(owner=owner).first() or Store.objects.create(
        owner=owner, name="Bench store"
    )
    product = catalog.create_product(
        user=owner, store=store, data={"name": "Bench tea", "price": Decimal("12.50"),
                                       "stock": 100000},
    )  # fmt: skip
    print(f"{connection.vendor}")
    client = Client(HTTP_HOST="localhost")
    client.force_login(buyer)

    def pay(_: int) -> None:
        checkout = place_checkout(
            buyer=buyer, lines=[LineRequest(product.pk, None, 1)], shipping_address=ADDRESS
        )
        created = client.post(
            "/api/payments/create/",
            {"checkout_id": checkout.pk, "gateway": "test"},
            content_type="application/json",
        )
        confirmed = client.post(
            "/api/payments/confirm/",
            {"payment_id": created.json()["id"], "card_number": "4242424242424242"},
            content_type="application/json",
        )
        assert confirmed.status_code == 200, confirmed.content

    timed("checkout + create + confirm (test card)", 20, pay)

    open_payments = []
    for _ in range(20):
        checkout = place_checkout(
            buyer=buyer, lines=[LineRequest(product.pk, None, 1)], shipping_address=ADDRESS
        )
        created = client.post(
            "/api/payments/create/",
            {"checkout_id": checkout.pk, "gateway": "test"},
            content_type="application/json",
        )
        open_payments.append(created.json()["id"])
    webhooks = Client(HTTP_HOST="localhost")
    stamp = time.time_ns()

    def deliver(index: int) -> None:
        body = json.dumps(
            {
                "id": f"evt_bench_{stamp}_{index}",
                "type": "payment.succeeded",
                "data": {"payment_id": open_payments[index]},
            }
        ).encode()
        signature = test_gateway.sign(body, settings.PAYMENT_TEST_WEBHOOK_SECRET)
        response = webhooks.generic(
            "POST", "/api/payments/webhook/", body, content_type="application/json",
            headers={"X-Signature": signature},
        )  # fmt: skip
        assert response.status_code == 200, response.content

    timed("signed webhook: verify + store + process", 20, deliver)

    fill_history(args.history, buyer, store)
    analytics = Client(HTTP_HOST="localhost")
    analytics.force_login(staff)
    timed("analytics, staff, 30 days", 5, lambda _: analytics.get("/api/payments/analytics/"))
    analytics.force_login(owner)
    timed("analytics, store owner, 30 days", 5, lambda _: analytics.get("/api/payments/analytics/"))
    print(f"{Order.objects.count()} orders, {Payment.objects.count()} payments")


def fill_history(count: int, buyer: User, store: Store) -> None:
    """``count`` paid checkouts spread over the last 30 days, one order and one succeeded
    payment each, every tenth refunded in part: rows only, as the services would leave them."""
    if Payment.objects.count() >= count:
        return
    now = timezone.now()
    started = time.perf_counter()
    for batch_start in range(0, count, 2000):
        size = min(2000, count - batch_start)
        moments = [now - timedelta(minutes=(batch_start + i) * 43200 // count) for i in range(size)]
        checkouts = Checkout.objects.bulk_create(
            [
                Checkout(buyer=buyer, status="paid", total=Decimal("25.00"), currency="SDG",
                         payment_deadline=m, shipping_address=ADDRESS, paid_at=m)
                for m in moments
            ]
        )  # fmt: skip
        Order.objects.bulk_create(
            [
                Order(checkout=c, store=store, buyer=buyer, number=f"BENCH-{c.pk}", status="paid",
                      total=c.total, currency="SDG", payment_deadline=c.payment_deadline,
                      shipping_address=ADDRESS)
                for c in checkouts
            ]
        )  # fmt: skip
        payments = Payment.objects.bulk_create(
            [
                Payment(checkout=c, payer=buyer, gateway="test", status="succeeded",
                        amount=c.total, currency="SDG", expires_at=c.payment_deadline,
                        succeeded_at=c.paid_at)
                for c in checkouts
            ]
        )  # fmt: skip
        Refund.objects.bulk_create(
            [
                Refund(payment=p, amount=Decimal("5.00"), currency="SDG", status="succeeded",
                       completed_at=p.succeeded_at)
                for p in payments[::10]
            ]
        )  # fmt: skip
    print(f"history of {count} paid orders inserted in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
