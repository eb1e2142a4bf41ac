"""Fixtures shared by every app's tests."""

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tests.factories import StaffUserFactory, UserFactory
from authentication.tests.google_fake import FakeGoogle
from core.tests import sqlite_template
from orders.tests.factories import SHIPPING_ADDRESS


def pytest_configure(config: pytest.Config) -> None:
    sqlite_template.install()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.mariadb`` tests race real connections: on SQLite, which serialises every
    writer, they would prove nothing, so they are skipped there and run in the MariaDB tier."""
    from django.db import connection

    skip = pytest.mark.skip(reason="needs real parallel connections (the MariaDB tier)")
    for item in items:
        if "mariadb" in item.keywords and connection.vendor != "mysql":
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Uploads (avatars, product images) land in a temporary folder, never in var/media."""
    from django.conf import settings

    original, settings.MEDIA_ROOT = settings.MEDIA_ROOT, tmp_path_factory.mktemp("media")
    yield
    settings.MEDIA_ROOT = original


@pytest.fixture
def shipping_address() -> dict:
    return dict(SHIPPING_ADDRESS)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # Throttle counters and cached values must not leak between tests (nor the catalogue
    # answers each process keeps for a second, core.http_cache).
    from core import http_cache
    from products import selectors

    cache.clear()
    http_cache.forget_local()
    selectors.forget_local()
    yield
    cache.clear()
    http_cache.forget_local()
    selectors.forget_local()


@pytest.fixture(autouse=True)
def google(monkeypatch: pytest.MonkeyPatch) -> FakeGoogle:
    """Google's certificate endpoint, served locally: no test reaches Google."""
    from authentication import google as google_module

    fake = FakeGoogle()
    monkeypatch.setattr(google_module, "http_client", fake.client)
    return fake


@pytest.fixture(autouse=True)
def _every_api_answer_matches_the_openapi_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each JSON answer from /api/ that a test receives through DRF's test client must be
    documented (core/tests/openapi_check.py): status and shape."""
    from core.tests import openapi_check

    original = APIClient.request

    def checked(self: APIClient, **request: Any) -> Any:
        response = original(self, **request)
        if not getattr(response, "streaming", False):  # static files stream
            openapi_check.check(
                request.get("REQUEST_METHOD", "GET"),
                request.get("PATH_INFO", ""),
                response.status_code,
                response.get("Content-Type", ""),
                response.content,
            )
        return response

    monkeypatch.setattr(APIClient, "request", checked)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    return UserFactory()


@pytest.fixture
def staff_user(db: None) -> User:
    return StaffUserFactory()


@pytest.fixture
def make_auth_client() -> Callable[[User], APIClient]:
    """An APIClient sending a real access JWT for the given user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        return client

    return make


@pytest.fixture
def auth_client(user: User, make_auth_client: Callable[[User], APIClient]) -> APIClient:
    return make_auth_client(user)


@pytest.fixture
def staff_client(staff_user: User, make_auth_client: Callable[[User], APIClient]) -> APIClient:
    return make_auth_client(staff_user)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler writes (JSON lines here, filters included), with
    every logger let through at DEBUG."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    root = logging.getLogger()
    old_stream, old_level = handler.setStream(stream), root.level
    root.setLevel(logging.DEBUG)
    yield stream
    handler.setStream(old_stream)
    root.setLevel(old_level)


@pytest.fixture
def mariadb_root() -> Callable[[str], None]:
    """Run a statement as the MariaDB server's administrator (``MARIADB_ADMIN_URL``, by default
    root without a password on 127.0.0.1, as CI and ENVIRONMENT.md have it): for tests that
    create a throwaway user with limits of its own."""
    import os
    from urllib.parse import urlsplit

    import MySQLdb

    url = urlsplit(os.environ.get("MARIADB_ADMIN_URL", "mysql://root@127.0.0.1:3306/"))
    try:
        admin = MySQLdb.connect(
            host=url.hostname or "127.0.0.1", port=url.port or 3306,
            user=url.username or "root", password=url.password or "",
        )  # fmt: skip
    except MySQLdb.OperationalError as exc:
        pytest.skip(f"no MariaDB administrator account at MARIADB_ADMIN_URL: {exc}")

    def run(statement: str) -> None:
        admin.cursor().execute(statement)

    yield run
    admin.close()
