"""No password, code or token reaches the logs, whatever the level."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from authentication.tests.conftest import PASSWORD, bearer, code_sent_to, login, register

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_account_flows_log_no_secrets(api_client: APIClient, log_output, google):
    secrets: list[str] = [PASSWORD, "Blue-Nile-2027?"]

    register(api_client)
    secrets.append(code_sent_to("amna@example.com"))
    api_client.post(
        "/api/auth/verify-email/",
        {"email": "amna@example.com", "code": secrets[-1]},
        format="json",
    )
    login(api_client, "amna@example.com", "wrong-password-guess")
    secrets.append("wrong-password-guess")
    session = login(api_client, "amna@example.com").json()
    secrets += [session["access"], session["refresh"]]
    rotated = api_client.post("/api/auth/refresh/", {"refresh": session["refresh"]}, format="json")
    secrets += list(rotated.json().values())
    api_client.post("/api/auth/password-reset/", {"email": "amna@example.com"}, format="json")
    secrets.append(code_sent_to("amna@example.com"))
    api_client.post(
        "/api/auth/password-reset/confirm/",
        {"email": "amna@example.com", "code": secrets[-1], "new_password": "Blue-Nile-2027?"},
        format="json",
    )
    token = google.id_token()
    secrets.append(token)
    google_session = api_client.post("/api/auth/google/", {"id_token": token}, format="json").json()
    secrets.append(google_session["access"])
    bearer(google_session["access"]).get("/api/accounts/me/")
    api_client.post("/api/auth/refresh/", {"refresh": "forged.refresh.token"}, format="json")

    assert len(mail.outbox) >= 4
    logged = log_output.getvalue()
    assert "deliver_email_task" in logged, "the flows' task logs were not captured"
    for secret in secrets:
        assert secret not in logged
