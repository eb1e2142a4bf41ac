"""Dependencies really stopped under a running stack (daphne and a Celery worker): no 500s.

Each test starts its own throwaway server (core/tests/throwaway.py) and kills it mid-test —
never the machine's shared Redis or MariaDB.

* Redis down (cache, broker, channel layer): the catalogue and sign-in keep working, checkout
  succeeds once however often it is retried with its Idempotency-Key, registration and password
  reset succeed; what they queued is delivered when Redis is back, including an email whose
  message Redis lost in a restart.
* The database down: every endpoint but /health/ answers 503 with Retry-After in the error shape;
  back up, everything answers again.
"""

import os
import signal
import time
import uuid
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import httpx
import pytest

from core.tests.stack import running_stack
from core.tests.throwaway import ThrowawayMariaDB, ThrowawayRedis, available
from orders.tests.factories import SHIPPING_ADDRESS

pytestmark = pytest.mark.integration

PASSWORD = "Nile-river-2026!"
SEED = """
from accounts.tests.factories import UserFactory
from products.tests.factories import make_product
UserFactory(email="amna@example.com", password="{password}", is_email_verified=True)
product = make_product(name="Kettle", stock=5)
print(product.pk)
"""

HELD = """
from orders.models import Checkout
from products.models import Size
print(Checkout.objects.count(), Size.objects.get(product_id={product_id}).reserved)
"""


def subjects_sent(folder: Path) -> list[tuple[str, str]]:
    """(recipient, subject) of every email the file backend wrote."""
    found = []
    for path in sorted(folder.glob("*.log")) if folder.exists() else []:
        for raw in path.read_bytes().split(b"-" * 79):
            if raw.strip():
                message = message_from_bytes(raw.strip())
                subject = str(make_header(decode_header(message["Subject"] or "")))
                found.append((message["To"], subject))
    return found


def wait_until(condition, *, timeout: float, stack) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        stack.assert_running()
        time.sleep(0.25)
    return False


@pytest.mark.skipif(not available("redis-server"), reason="needs redis-server")
def test_redis_down_fails_no_request_and_loses_no_email(tmp_path):
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    emails = tmp_path / "emails"
    settings = {
        "REDIS_URL": redis.url(0),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(emails),
        "OUTBOX_RELAY_SECONDS": "0.5",
        "OUTBOX_REDELIVER_SECONDS": "3",
        "OUTBOX_BROKER_BACKOFF_SECONDS": "1",
        "CACHE_RETRY_SECONDS": "1",
    }
    try:
        with running_stack("embedded", tmp_path, **settings) as stack:
            product_id = int(
                stack.manage("shell", "-c", SEED.format(password=PASSWORD)).split()[-1]
            )
            web = httpx.Client(base_url=stack.base_url, timeout=30)
            signed_in = web.post(
                "/api/auth/login/", json={"email": "amna@example.com", "password": PASSWORD}
            )
            assert signed_in.status_code == 200, stack.logs()
            buyer = {"Authorization": f"Bearer {signed_in.json()['access']}"}

            # An email handed to Redis while the worker is frozen, then Redis restarts empty.
            worker = stack.processes["worker"]
            os.killpg(worker.pid, signal.SIGSTOP)
            lost = web.post("/api/auth/password-reset/", json={"email": "amna@example.com"})
            assert lost.status_code in (200, 202), lost.text
            redis.stop()
            os.killpg(worker.pid, signal.SIGCONT)

            answers = {
                "catalogue": web.get("/api/products/"),
                "product": web.get(f"/api/products/{product_id}/"),
                "login": web.post(
                    "/api/auth/login/", json={"email": "amna@example.com", "password": PASSWORD}
                ),
                "cart": web.post(
                    "/api/cart/add/", json={"product_id": product_id, "quantity": 2}, headers=buyer
                ),
            }
            key = {"Idempotency-Key": str(uuid.uuid4()), **buyer}
            body = {"shipping_address": SHIPPING_ADDRESS}
            answers["checkout"] = web.post("/api/cart/checkout/", json=body, headers=key)
            answers["checkout again"] = web.post("/api/cart/checkout/", json=body, headers=key)
            answers["register"] = web.post(
                "/api/auth/register/",
                json={"email": "omer@example.com", "password": PASSWORD, "first_name": "Omer",
                      "last_name": "Ali", "account_type": "buyer"},
            )  # fmt: skip
            answers["reset"] = web.post(
                "/api/auth/password-reset/", json={"email": "omer@example.com"}
            )
            ready = web.get("/ready/")

            statuses = {name: answer.status_code for name, answer in answers.items()}
            assert statuses == {
                "catalogue": 200, "product": 200, "login": 200, "cart": 201, "checkout": 201,
                "checkout again": 201, "register": 201, "reset": statuses["reset"],
            }, (statuses, stack.logs())  # fmt: skip
            assert statuses["reset"] in (200, 202)
            assert answers["checkout"].json()["id"] == answers["checkout again"].json()["id"]
            assert ready.status_code == 503  # honest: the cache and the broker are down
            orders = web.get("/api/orders/", headers=buyer).json()
            assert orders["count"] == 1
            held = stack.manage("shell", "-c", HELD.format(product_id=product_id)).split()[-2:]
            assert held == ["1", "2"]  # one checkout, holding 2 units once

            redis.start()  # empty: whatever it held before is gone
            expected = {
                ("amna@example.com", "Reset your password — Sudamall"),  # the lost one
                ("amna@example.com", "Your order is reserved — pay within 15 minutes"),
                ("omer@example.com", "Confirm your email address — Sudamall"),
                ("omer@example.com", "Reset your password — Sudamall"),
            }
            delivered = wait_until(
                lambda: expected <= set(subjects_sent(emails)), timeout=90, stack=stack
            )
            assert delivered, (subjects_sent(emails), stack.logs())
            assert len(subjects_sent(emails)) == len(expected), subjects_sent(emails)
            assert wait_until(
                lambda: web.get("/ready/").status_code == 200, timeout=30, stack=stack
            ), stack.logs()
    finally:
        redis.stop()


@pytest.mark.skipif(
    not available("mariadbd", "mariadb-install-db"), reason="needs a MariaDB server binary"
)
def test_the_database_down_is_503_with_retry_after_everywhere_but_health(tmp_path):
    mariadb = ThrowawayMariaDB(tmp_path)
    mariadb.start()
    try:
        with running_stack("embedded", tmp_path, DATABASE_URL=mariadb.create_database()) as stack:
            web = httpx.Client(base_url=stack.base_url, timeout=30)
            # Another listing than the probe's: an anonymous catalogue page is shared for a
            # second (core/http_cache.py), and so is a listing's count (products.selectors —
            # an empty catalogue's first page needs nothing else): this one must need the
            # database.
            assert web.get("/api/products/?in_stock=true").status_code == 200, stack.logs()

            mariadb.stop()
            probes = {
                "GET /api/products/": web.get("/api/products/"),
                "GET /api/categories/": web.get("/api/categories/"),
                "POST /api/auth/login/": web.post(
                    "/api/auth/login/", json={"email": "amna@example.com", "password": PASSWORD}
                ),
                "POST /api/auth/register/": web.post(
                    "/api/auth/register/",
                    json={
                        "email": "omer@example.com",
                        "password": PASSWORD,
                        "first_name": "O",
                        "last_name": "A",
                        "account_type": "buyer",
                    },
                ),
                "GET /admin/login/": web.get("/admin/login/"),
                "GET /o/sign-in/": web.get("/o/sign-in/"),
            }
            health, ready = web.get("/health/"), web.get("/ready/")

            for name, answer in probes.items():
                if name.startswith("GET /admin") or name.startswith("GET /o/"):
                    # A sign-in form needs no database to be drawn; posting it would.
                    assert answer.status_code in (200, 503), (name, answer.status_code)
                    if answer.status_code == 200:
                        continue
                assert answer.status_code == 503, (name, answer.status_code, answer.text[:300])
                assert answer.headers["Retry-After"] == "5", name
                assert answer.json()["code"] == "unavailable", name
            assert health.status_code == 200
            assert ready.status_code == 503
            web_log = (tmp_path / "web1.log").read_text(errors="replace")
            assert "dependency unavailable" in web_log  # every 503 is logged
            assert "Internal Server Error" not in web_log

            mariadb.start()
            assert wait_until(
                lambda: web.get("/api/products/").status_code == 200, timeout=30, stack=stack
            ), stack.logs()
    finally:
        mariadb.stop()
