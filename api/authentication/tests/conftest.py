import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

PASSWORD = "Nile-river-2026!"


def code_sent_to(email: str) -> str:
    """The 6-digit code in the newest email to ``email``."""
    for message in reversed(mail.outbox):
        if email in message.to:
            match = re.search(r"\b(\d{6})\b", message.body)
            assert match, message.body
            return match.group(1)
    raise AssertionError(f"no email to {email}")


def register(client: APIClient, email: str = "amna@example.com", **extra) -> dict:
    body = {
        "email": email,
        "password": PASSWORD,
        "first_name": "Amna",
        "last_name": "Osman",
        "account_type": "buyer",
        **extra,
    }
    response = client.post("/api/auth/register/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def login(client: APIClient, email: str, password: str = PASSWORD):
    return client.post("/api/auth/login/", {"email": email, "password": password}, format="json")


@pytest.fixture
def verified_session(api_client: APIClient) -> dict:
    """Register, verify and return the verification response (tokens and user)."""
    register(api_client)
    response = api_client.post(
        "/api/auth/verify-email/",
        {"email": "amna@example.com", "code": code_sent_to("amna@example.com")},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client
