"""Every error, whatever raised it, reaches the client as {"code", "message", "details"}."""

import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = [pytest.mark.django_db, pytest.mark.urls("core.tests.urls")]


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["details"], dict)
    return body


def test_field_validation_is_400_invalid_with_field_messages(api_client: APIClient):
    response = api_client.post("/t/validation/", {"quantity": 0}, format="json")

    body = assert_error_shape(response, 400, "invalid")
    assert list(body["details"]) == ["quantity"]
    assert body["details"]["quantity"] == ["Ensure this value is greater than or equal to 1."]


def test_malformed_json_is_400_parse_error(api_client: APIClient):
    response = api_client.post("/t/validation/", "{not json", content_type="application/json")

    assert_error_shape(response, 400, "parse_error")


def test_django_validation_error_is_400_invalid(api_client: APIClient):
    response = api_client.post("/t/model-validation/", {}, format="json")

    body = assert_error_shape(response, 400, "invalid")
    assert body["details"] == {"email": ["Enter a valid email address."]}


def test_missing_credentials_is_401_not_authenticated(api_client: APIClient):
    response = api_client.get("/t/protected/")

    assert_error_shape(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_garbage_token_is_401(api_client: APIClient):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = api_client.get("/t/protected/")

    assert_error_shape(response, 401, "token_not_valid")
    assert "not-a-jwt" not in response.content.decode()


def test_authenticated_without_permission_is_403(auth_client: APIClient):
    response = auth_client.get("/t/staff-only/")

    assert_error_shape(response, 403, "permission_denied")


def test_unknown_url_is_404_in_the_error_shape(api_client: APIClient):
    response = api_client.get("/api/no-such-endpoint/")

    assert_error_shape(response, 404, "not_found")
    assert response.headers["Content-Type"] == "application/json"


def test_unknown_object_is_404(staff_client: APIClient):
    response = staff_client.get("/api/ops/worker-checks/2f1c7b4e-0000-4000-8000-000000000000/")

    assert_error_shape(response, 404, "not_found")


def test_wrong_method_is_405(api_client: APIClient):
    response = api_client.delete("/t/validation/")

    body = assert_error_shape(response, 405, "method_not_allowed")
    assert "DELETE" in body["message"]


def test_application_error_keeps_its_status_code_and_details(api_client: APIClient):
    response = api_client.post("/t/conflict/", {}, format="json")

    body = assert_error_shape(response, 409, "out_of_stock")
    assert body["message"] == "Only 2 left."
    assert body["details"] == {"lines": [{"available": 2}]}


def test_throttled_is_429_with_retry_after(api_client: APIClient):
    for _ in range(2):
        assert api_client.get("/t/throttled/").status_code == 200

    response = api_client.get("/t/throttled/")

    body = assert_error_shape(response, 429, "throttled")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["details"]["retry_after"] == retry_after


def test_unexpected_exception_is_500_without_internals(api_client: APIClient, caplog):
    with caplog.at_level(logging.ERROR, logger="core.exceptions"):
        response = api_client.get("/t/broken/")

    body = assert_error_shape(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    assert body["message"] == "Internal server error."
    # ...but the operator gets the traceback.
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_unsupported_media_type_is_415(api_client: APIClient):
    response = api_client.post("/t/validation/", "quantity=1", content_type="text/plain")

    assert_error_shape(response, 415, "unsupported_media_type")


def test_reused_idempotency_key_is_422_in_the_error_shape(auth_client: APIClient):
    headers = {"Idempotency-Key": "order-7f3a"}
    auth_client.post("/t/idempotent/", {"quantity": 1}, format="json", headers=headers)

    response = auth_client.post("/t/idempotent/", {"quantity": 2}, format="json", headers=headers)

    assert_error_shape(response, 422, "idempotency_key_reused")


def test_an_spa_on_localhost_gets_cors_headers_in_development(api_client, settings):
    settings.CORS_ALLOWED_ORIGIN_REGEXES = [r"^http://localhost(:\d+)?$"]  # what DEBUG sets

    preflight = api_client.options(
        "/api/products/",
        HTTP_ORIGIN="http://localhost:3000",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    other = api_client.options(
        "/api/products/",
        HTTP_ORIGIN="https://evil.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )

    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_a_json_404_in_every_mode(api_client, settings, debug):
    settings.DEBUG = debug

    response = api_client.get("/api/no-such-thing/")
    # A browser-less POST (no CSRF cookie), as a provider's webhook to a wrong URL sends it.
    post = Client(enforce_csrf_checks=True).post("/api/no-such-thing/", {"a": "b"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert post.status_code == 404


@pytest.mark.parametrize("debug", [False, True])
def test_a_path_missing_its_slash_is_308_keeping_method_body_and_query(api_client, settings, debug):
    settings.DEBUG = debug

    post = api_client.post("/api/auth/login", {"email": "a@b.c", "password": "x"}, format="json")
    get = api_client.get("/api/products?page_size=5&ordering=-price")

    assert post.status_code == 308
    assert post["Location"] == "/api/auth/login/"
    assert get.status_code == 308
    assert get["Location"] == "/api/products/?page_size=5&ordering=-price"


def test_following_the_308_reaches_the_endpoint(auth_client):
    response = auth_client.get("/api/accounts/me", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [("/api/accounts/me/", 308)]
