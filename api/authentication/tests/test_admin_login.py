"""The admin's sign-in is held to the failed-attempt limits too: 25 wrong passwords, then the
right one, used to sign a password guesser in."""

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Staff-Nile-2026!"


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("ops@sudamall.local", password=PASSWORD)


def sign_in(client: Client, password: str):
    return client.post(
        "/admin/login/?next=/admin/", {"username": "ops@sudamall.local", "password": password}
    )


def test_guessing_stops_at_the_limit_even_for_the_right_password(settings, staff):
    guesser = Client()
    for n in range(settings.LOGIN_FAILURES_PER_EMAIL):
        wrong = sign_in(guesser, f"guess-{n}")
        assert wrong.status_code == 200  # the form again, with an error
        assert "Please enter the correct email" in wrong.content.decode()

    right = sign_in(guesser, PASSWORD)

    assert right.status_code == 200
    assert "Too many failed sign-in attempts" in right.content.decode()
    assert "_auth_user_id" not in guesser.session


def test_the_right_password_within_the_limit_signs_in_and_clears_the_count(settings, staff):
    client = Client()
    for n in range(settings.LOGIN_FAILURES_PER_EMAIL - 1):
        sign_in(client, f"typo-{n}")

    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for n in range(settings.LOGIN_FAILURES_PER_EMAIL - 1):
        sign_in(client, f"typo-again-{n}")
    assert sign_in(client, PASSWORD).status_code == 302  # the success reset the count
