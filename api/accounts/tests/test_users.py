import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_the_login_name_and_is_stored_lower_case():
    user = User.objects.create_user("Amna.Osman@Example.COM", password=DEFAULT_PASSWORD)

    assert user.email == "amna.osman@example.com"
    assert user.check_password(DEFAULT_PASSWORD)
    assert User.objects.get_by_natural_key("AMNA.OSMAN@example.com") == user


def test_two_accounts_cannot_share_an_email():
    from django.db import IntegrityError, transaction

    User.objects.create_user("a@example.com", password=DEFAULT_PASSWORD)

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("A@example.com", password=DEFAULT_PASSWORD)


def test_a_superuser_from_createsuperuser_can_use_the_admin_and_the_api(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", DEFAULT_PASSWORD)
    call_command("createsuperuser", "--noinput", "--email", "Root@Example.com", verbosity=0)
    admin = User.objects.get()
    assert admin.is_staff
    assert admin.is_superuser

    logged_in = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root@example.com", "password": DEFAULT_PASSWORD},
    )
    assert logged_in.status_code == 302
    assert client.get("/admin/accounts/user/").status_code == 200

    session = APIClient().post(
        "/api/auth/login/",
        {"email": "root@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert session.status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {session.json()['access']}")
    assert api.post("/api/ops/worker-checks/").status_code == 202


def test_admin_user_list_and_search_stay_within_a_query_budget(
    client, django_assert_max_num_queries
):
    admin = User.objects.create_superuser("boss@example.com", password=DEFAULT_PASSWORD)
    UserFactory.create_batch(30)
    client.force_login(admin)

    with django_assert_max_num_queries(8):
        response = client.get("/admin/accounts/user/?q=example")

    assert response.status_code == 200


def test_an_inactive_users_token_is_refused(make_auth_client):
    user = UserFactory(is_active=False)

    response = make_auth_client(user).post("/api/ops/worker-checks/")

    assert response.status_code == 401


def test_admin_user_page_shows_profile_and_recent_activity(client):
    from accounts.models import ActivityLog

    admin = User.objects.create_superuser("boss@example.com", password=DEFAULT_PASSWORD)
    member = UserFactory(phone_number="+249912345678")
    ActivityLog.objects.create(user=member, action="login", ip_address="192.0.2.4")
    client.force_login(admin)

    page = client.get(f"/admin/accounts/user/{member.pk}/change/")
    listing = client.get("/admin/accounts/user/?account_type__exact=buyer&q=249912345678")

    assert page.status_code == 200
    assert b"192.0.2.4" in page.content
    assert listing.status_code == 200
    assert member.email.encode() in listing.content
    for url in (
        "/admin/accounts/activitylog/",
        "/admin/accounts/onetimecode/",
        "/admin/authentication/externalidentity/",
        "/admin/oauth2_provider/application/",
    ):
        assert client.get(url).status_code == 200, url


def test_staff_can_delete_a_user_with_activity_codes_and_a_google_link(client):
    """The read-only admins of rows that hang off a user by CASCADE keep deleting on: the admin
    refuses to delete a user while any cascaded model denies it."""
    from accounts.models import ActivityLog, OneTimeCode
    from accounts.services import issue_code, record_activity
    from authentication.models import ExternalIdentity

    admin = User.objects.create_superuser("boss@example.com", password=DEFAULT_PASSWORD)
    leaving = UserFactory()
    record_activity(user=leaving, action=ActivityLog.Action.LOGIN)
    issue_code(user=leaving, purpose=OneTimeCode.Purpose.PASSWORD_RESET)
    ExternalIdentity.objects.create(user=leaving, provider="google", subject="1", email="x@y.z")
    client.force_login(admin)

    response = client.post(f"/admin/accounts/user/{leaving.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=leaving.pk).exists()
