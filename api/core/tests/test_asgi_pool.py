"""HTTP on a bounded thread pool: a burst queues instead of failing, a request that waited too
long is a 503 with Retry-After (never a 500), a body past the limit is a 413 before it takes a
thread, and however many requests arrive, a process opens no more database connections than it
has threads."""

import asyncio
import threading

import httpx
import pytest
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.db.backends.signals import connection_created
from django.test import Client

from core.asgi import ThreadPoolHttp
from products.tests.factories import make_product


def held_app(release: threading.Event, entered: threading.Semaphore):
    """A WSGI app that answers once ``release`` is set."""

    def app(environ, start_response):
        entered.release()
        release.wait(timeout=30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read()]

    return app


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_requests_beyond_the_threads_wait_for_one():
    release, entered = threading.Event(), threading.Semaphore(0)
    http = ThreadPoolHttp(
        held_app(release, entered), threads=2, queue_seconds=30, max_body_bytes=1024
    )
    async with client_for(http) as client:
        burst = [asyncio.create_task(client.post("/", content=f"{i}")) for i in range(10)]
        await asyncio.to_thread(entered.acquire)
        await asyncio.to_thread(entered.acquire)
        assert http.busy == 2  # the other eight wait, holding nothing
        release.set()
        answers = await asyncio.gather(*burst)

    assert [a.status_code for a in answers] == [200] * 10
    assert sorted(a.text for a in answers) == sorted(str(i) for i in range(10))


async def test_a_request_that_waited_too_long_is_a_503_with_retry_after():
    release, entered = threading.Event(), threading.Semaphore(0)
    http = ThreadPoolHttp(
        held_app(release, entered), threads=1, queue_seconds=0.2, max_body_bytes=1024
    )
    async with client_for(http) as client:
        holder = asyncio.create_task(client.get("/"))
        await asyncio.to_thread(entered.acquire)
        refused = await client.get("/")
        release.set()
        held = await holder

    assert held.status_code == 200
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert refused.json() == {
        "code": "overloaded",
        "message": "The server is busy; retry shortly.",
        "details": {},
    }


async def test_a_body_past_the_limit_is_refused_before_it_takes_a_thread():
    release, entered = threading.Event(), threading.Semaphore(0)
    release.set()
    http = ThreadPoolHttp(
        held_app(release, entered), threads=1, queue_seconds=1, max_body_bytes=1024
    )
    async with client_for(http) as client:
        declared = await client.post("/", content=b"x" * 2048)

        async def undeclared():  # chunked: no Content-Length to judge by
            for _ in range(3):
                yield b"x" * 600

        streamed = await client.post("/", content=undeclared())
        fits = await client.post("/", content=b"x" * 1024)

    assert declared.status_code == streamed.status_code == 413
    assert declared.json()["code"] == "too_large"
    assert fits.status_code == 200
    assert entered.acquire(blocking=False)  # the app saw the one that fits ...
    assert not entered.acquire(blocking=False)  # ... and nothing else


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_a_burst_far_above_the_bound_is_served_on_that_many_connections():
    for _ in range(3):
        make_product()
    threads = 3
    opened: list[int] = []
    lock = threading.Lock()

    def count(**kwargs):
        with lock:
            opened.append(1)

    connections.settings["default"]["CONN_MAX_AGE"] = 300  # persistent, as in production
    connection_created.connect(count, weak=False)
    http = ThreadPoolHttp(get_wsgi_application(), threads=threads, queue_seconds=60,
                          max_body_bytes=1024)  # fmt: skip

    async def burst() -> list[httpx.Response]:
        async with client_for(http) as client:
            paths = ["/api/products/", "/api/stores/", "/api/categories/"] * 40
            return await asyncio.gather(*(client.get(path) for path in paths))

    try:
        answers = asyncio.run(burst())
    finally:
        connection_created.disconnect(count)
        connections.settings["default"]["CONN_MAX_AGE"] = 0
        # Each pool thread closes its own connection (three tasks, held together: three threads).
        together = threading.Barrier(threads)

        def close_own(_):
            together.wait(timeout=30)
            connections.close_all()

        list(http.wsgi.executor.map(close_own, range(threads)))
        http.wsgi.executor.shutdown()

    assert sorted({a.status_code for a in answers}) == [200]
    assert len(answers) == 120
    assert 1 <= len(opened) <= threads


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_a_database_out_of_connections_is_a_503_with_retry_after(mariadb_root):
    """A real refusal: a user allowed one connection, which another client holds."""
    user, password = "sudamall_tiny", "tiny-pass-1"
    mariadb_root(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}' "
                 "WITH MAX_USER_CONNECTIONS 1")  # fmt: skip
    mariadb_root(f"GRANT ALL ON *.* TO '{user}'@'%'")
    try:
        import MySQLdb

        db = connections.settings["default"]
        holder = MySQLdb.connect(host=db["HOST"], port=int(db["PORT"] or 3306), user=user,
                                 password=password, database=db["NAME"])  # fmt: skip
        original = (db["USER"], db["PASSWORD"])
        db["USER"], db["PASSWORD"] = user, password
        refused: list = []

        def request():  # a thread of its own, so a connection of its own
            refused.append(Client(raise_request_exception=False).get("/api/products/"))
            connections.close_all()

        worker = threading.Thread(target=request)
        worker.start()
        worker.join(timeout=60)
        db["USER"], db["PASSWORD"] = original
        holder.close()
    finally:
        mariadb_root(f"DROP USER IF EXISTS '{user}'@'%'")

    (answer,) = refused
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert answer.json()["code"] == "unavailable"


async def test_json_is_held_to_the_form_limit_and_only_uploads_get_the_larger_one():
    release, entered = threading.Event(), threading.Semaphore(0)
    release.set()
    http = ThreadPoolHttp(
        held_app(release, entered), threads=1, queue_seconds=1, max_body_bytes=4096,
        max_form_bytes=1024,
    )  # fmt: skip
    async with client_for(http) as client:
        json_body = await client.post(
            "/", content=b"x" * 2048, headers={"Content-Type": "application/json"}
        )
        upload = await client.post("/", files={"image": ("a.png", b"x" * 2048, "image/png")})
        huge_upload = await client.post("/", files={"image": ("a.png", b"x" * 8192, "image/png")})

    assert json_body.status_code == 413
    assert upload.status_code == 200
    assert huge_upload.status_code == 413
