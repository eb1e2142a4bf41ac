"""Property-based: generated requests for every documented operation get documented answers.

Schemathesis reads the OpenAPI document the project serves and calls each operation in-process
with valid and invalid data, checking for 5xx, undocumented status codes and content types, and
responses that don't match their schema. Later issues' endpoints are covered automatically.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from accounts.models import User

pytestmark = pytest.mark.slow  # fuzzes every operation (about 30 s of CPU)


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open():
    """Django's test client stops request signals from closing the connection that holds the
    test transaction; schemathesis calls the WSGI app directly, so do the same here."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def staff_headers(db: None) -> dict[str, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    staff = User.objects.create_user("ops@example.com", password="x-Pass-1234", is_staff=True)
    return {"Authorization": f"Bearer {AccessToken.for_user(staff)}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,  # the same examples on every run: CI must not flake
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_operation_conforms_to_its_documentation(case, staff_headers):
    from django.core.cache import cache

    cache.clear()  # each example starts under the throttle limits
    case.call_and_validate(
        headers=staff_headers,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        # A schema-valid body can still break a business rule (a wrong code, a weak password).
        excluded_checks=[positive_data_acceptance],
    )
