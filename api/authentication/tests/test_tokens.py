import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from authentication import services
from authentication.tests.conftest import bearer
from core.tests.concurrency import race

pytestmark = pytest.mark.django_db


def refresh(client: APIClient, token: str):
    return client.post("/api/auth/refresh/", {"refresh": token}, format="json")


def test_a_rotated_refresh_token_cannot_be_used_again(api_client: APIClient):
    pair = services.issue_tokens(user=UserFactory(is_email_verified=True))

    assert refresh(api_client, pair.refresh).status_code == 200
    reused = refresh(api_client, pair.refresh)

    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"


def test_garbage_and_access_tokens_are_not_refresh_tokens(api_client: APIClient):
    pair = services.issue_tokens(user=UserFactory(is_email_verified=True))

    assert refresh(api_client, "garbage").status_code == 401
    assert refresh(api_client, pair.access).status_code == 401


def test_a_deactivated_users_tokens_stop_working(api_client: APIClient):
    user = UserFactory(is_email_verified=True)
    pair = services.issue_tokens(user=user)
    user.is_active = False
    user.save()

    assert bearer(pair.access).get("/api/accounts/me/").status_code == 401
    assert refresh(api_client, pair.refresh).status_code == 401


def test_logout_needs_your_own_refresh_token():
    mine = services.issue_tokens(user=UserFactory(is_email_verified=True))
    theirs = services.issue_tokens(user=UserFactory(is_email_verified=True))

    response = bearer(mine.access).post(
        "/api/auth/logout/", {"refresh": theirs.refresh}, format="json"
    )

    assert response.status_code == 401
    assert refresh(APIClient(), theirs.refresh).status_code == 200


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_let_exactly_one_through():
    pair = services.issue_tokens(user=UserFactory(is_email_verified=True))
    racers = 6

    statuses = race(racers, lambda _: refresh(APIClient(), pair.refresh).status_code)

    assert sorted(statuses) == [200] + [401] * (racers - 1)
