import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_validates_with_warnings_as_errors(tmp_path):
    # The same command CI runs; raises on any warning or an invalid OpenAPI document.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))


def test_schema_is_served_as_json(api_client: APIClient):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_every_operation_documents_its_errors_in_the_error_shape(schema: dict):
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "code",
        "message",
        "details",
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "/webhook/" in path or "/esp/" in path:  # providers' calls: not throttled, raw body
                assert {"200", "400"} <= set(responses), (method, path)
                assert "429" not in responses
                continue
            assert "429" in responses, (method, path)
            assert "Retry-After" in responses["429"]["headers"]
            if "{" in path:
                assert "404" in responses, (method, path)
            if method in {"post", "put", "patch"}:
                assert "400" in responses, (method, path)


def test_protected_operations_document_401_and_403(schema: dict):
    create = schema["paths"]["/api/ops/worker-checks/"]["post"]
    assert {"401", "403"} <= set(create["responses"])
    health = schema["paths"]["/health/"]["get"]
    assert "401" not in health["responses"]
    assert "503" in schema["paths"]["/ready/"]["get"]["responses"]


@pytest.mark.parametrize("url", ["/api/schema/swagger-ui/", "/api/schema/redoc/"])
def test_docs_pages_load_every_asset_from_this_server(api_client: APIClient, url: str):
    page = api_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page references no assets"
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), f"{asset} would leave the machine"
        if asset.startswith("/static/"):
            served = api_client.get(asset)
            assert served.status_code == 200, asset


FLOW = [
    ("/api/cart/add/", 201),
    ("/api/cart/checkout/", 201),
    ("/api/payments/create/", 201),
    ("/api/payments/confirm/", 200),
    ("/api/orders/", 201),
]


def _example(document: dict, path: str) -> dict:
    content = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    (example, *_) = content["examples"].values()  # what Swagger UI fills in by default
    return example["value"]


@pytest.mark.django_db(transaction=True, reset_sequences=True)  # ids from 1, as after make run
def test_swagger_uis_default_examples_walk_the_buyers_flow_on_the_demo_data(schema, settings):
    """What a newcomer does in Swagger UI after `make run`: sign in as the demo buyer, press
    "Try it out" and "Execute" on each step of the flow without editing a thing."""
    settings.DEBUG = True
    call_command("demo_data", "--products", "30")
    document = schema
    session = APIClient().post(
        "/api/auth/login/",
        {"email": "buyer@sudamall.local", "password": "sudamall-demo"},
        format="json",
    )
    buyer = APIClient()
    buyer.credentials(HTTP_AUTHORIZATION=f"Bearer {session.json()['access']}")

    answers = [
        buyer.post(path, _example(document, path), format="json").status_code for path, _ in FLOW
    ]

    assert answers == [status for _, status in FLOW]
    assert buyer.get("/api/orders/").json()["results"][-1]["status"] == "paid"

    # Then the store's side: staff refunds part of it, with the refund's example as it stands.
    staff = APIClient()
    admin = {"email": "admin@sudamall.local", "password": "sudamall-demo"}
    staff_session = staff.post("/api/auth/login/", admin, format="json").json()
    staff.credentials(HTTP_AUTHORIZATION=f"Bearer {staff_session['access']}")
    refund_path = "/api/payments/{payment_id}/refund/"
    refund = staff.post(
        refund_path.format(payment_id=1), _example(document, refund_path), format="json"
    )
    assert refund.status_code == 201, refund.content
    assert refund.json()["amount"] == "10.00"


def test_coordinates_may_be_negative_in_the_document_and_money_may_not(schema: dict):
    """A client that checks patterns must be able to send and read a store south of the
    equator or west of Greenwich; prices stay unsigned so Swagger never offers "-"."""
    components = schema["components"]["schemas"]
    for component in ("Store", "StoreInputRequest", "PatchedStoreInputRequest"):
        for name in ("latitude", "longitude"):
            pattern = components[component]["properties"][name]["pattern"]
            assert re.fullmatch(pattern, "-41.133500"), (component, name)
            assert re.fullmatch(pattern, "32.5599"), (component, name)
    assert not re.fullmatch(components["Product"]["properties"]["price"]["pattern"], "-1.00")
    assert "x-signed" not in str(schema)


def test_every_api_path_the_readme_names_exists(schema: dict, api_client: APIClient):
    """README tells newcomers what the API offers: each path it names is an operation of the
    document (or one of the document's own pages), so it can't promise what isn't built."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    named = set(re.findall(r"/api/[A-Za-z0-9_\-/{}.]*", readme))
    template = re.compile(r"\{[^}]+\}")
    documented = {template.sub("{}", path) for path in schema["paths"]}
    pages = {path for path in named if path.startswith("/api/schema/")}

    assert len(named) > 30  # the README's tables were read
    assert sorted(p for p in named - pages if template.sub("{}", p) not in documented) == []
    for page in pages:
        assert api_client.get(page).status_code == 200, page
