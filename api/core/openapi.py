"""OpenAPI helpers: the error schema and the error responses every operation can produce.

``add_error_responses`` (a drf-spectacular post-processing hook) documents the errors that the
framework raises on its own — 400 for input, 401/403 for protected operations, 404 for paths
with an id, 429 from the throttles — so views declare only their business errors (409, 402...)
with ``error_responses(...)``.
"""

import functools
import json
from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers

ERROR_COMPONENT = "Error"
# An operation extension marking a provider webhook (see add_error_responses).
RAW_WEBHOOK = "x-raw-webhook"

ErrorSerializer = inline_serializer(
    name=ERROR_COMPONENT,
    fields={
        "code": serializers.CharField(help_text="Stable machine-readable error code."),
        "message": serializers.CharField(help_text="Human-readable explanation."),
        "details": serializers.DictField(
            help_text="Extra data; for validation errors `{field: [messages]}`."
        ),
    },
)

_DEFAULT_ERRORS = {
    "400": "Invalid input (`invalid`, `parse_error`).",
    "401": "Missing or invalid credentials (`not_authenticated`, `authentication_failed`).",
    "403": "Authenticated but not allowed (`permission_denied`).",
    "404": "No such object, not yours, or a page past the end (`not_found`).",
    "415": "Unsupported or malformed request body encoding (`unsupported_media_type`).",
    "413": "The request body is too large (`too_large`).",
    "429": "Too many requests (`throttled`); see the `Retry-After` header.",
    "503": (
        "Briefly unavailable: a dependency is down (`unavailable`) or every request thread of "
        "the server stayed busy (`overloaded`). Nothing was changed; retry after `Retry-After` "
        "seconds."
    ),
}

idempotency_key_parameter = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe: the same key with the same body replays the first response; a "
        "different body gets 422 `idempotency_key_reused`; a duplicate still running gets 409 "
        "`idempotency_in_progress`. Keys are kept 24 hours."
    ),
)


def error_responses(*statuses_and_codes: tuple[int, str]) -> dict[int, OpenApiResponse]:
    """``@extend_schema(responses={..., **error_responses((409, "out_of_stock"))})``. Several
    codes may share a status: each becomes an example of that response."""
    codes: dict[int, list[str]] = {}
    for status, code in statuses_and_codes:
        codes.setdefault(status, []).append(code)
    return {
        status: OpenApiResponse(
            response=ErrorSerializer,
            description=", ".join(f"`{code}`" for code in names),
            examples=[
                OpenApiExample(code, value={"code": code, "message": "…", "details": {}})
                for code in names
            ],
        )
        for status, names in codes.items()
    }


def _error_ref() -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}


# Anonymous catalogue reads answer If-None-Match with 304 (core/http_cache.py).
CONDITIONAL_GETS = {
    "/api/products/",
    "/api/products/{product_id}/",
    "/api/stores/",
    "/api/stores/{store_id}/",
    "/api/stores/{store_id}/products/",
    "/api/categories/",
    "/api/tags/",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        ERROR_COMPONENT,
        {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": {}},
            },
            "required": ["code", "message", "details"],
        },
    )
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "put", "patch", "post", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            if method == "get" and path in CONDITIONAL_GETS:
                responses.setdefault(
                    "304",
                    {
                        "description": "Not modified: the `ETag` sent in `If-None-Match` is "
                        "current (anonymous reads; no body)"
                    },
                )
            # Provider webhooks: the raw body is read as sent (no parser, so no 415) and they
            # are not throttled (no 429).
            raw_webhook = operation.pop(RAW_WEBHOOK, False)
            wanted = {"503"} if raw_webhook else {"429", "503"}
            if method in {"put", "patch", "post"} or any(
                p.get("in") == "query" for p in operation.get("parameters", [])
            ):
                wanted.add("400")
            if method in {"put", "patch", "post"} and "requestBody" in operation:
                wanted |= {"413"} if raw_webhook else {"413", "415"}
            if {} not in operation.get("security", [{}]):
                wanted |= {"401", "403"}
            if "{" in path or any(p.get("name") == "page" for p in operation.get("parameters", [])):
                wanted.add("404")  # no such object; or a page past the end of a list
            for status in sorted(wanted):
                responses.setdefault(
                    status,
                    {
                        "description": _DEFAULT_ERRORS[status],
                        "content": {"application/json": {"schema": _error_ref()}},
                    },
                )
            for status in ("429", "503"):
                if status in responses:
                    responses[status].setdefault(
                        "headers",
                        {
                            "Retry-After": {
                                "schema": {"type": "integer"},
                                "description": "Seconds to wait before retrying.",
                            }
                        },
                    )
    return result


@functools.cache
def paginated(serializer_class: type[serializers.Serializer]) -> Any:
    """The OpenAPI shape of a paginated list of ``serializer_class`` for plain APIViews:
    ``{"count", "next", "previous", "results": [...]}``."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


# --- what generated clients need ------------------------------------------------------------------

OPTIONAL = "x-optional"  # set on a response field that is really left out sometimes
SIGNED = "x-signed"  # set on a decimal field that may be negative (a coordinate): keeps its "-"


def _walk(schema: Any) -> Any:
    """Every schema object nested in ``schema`` (properties, items, allOf...), itself included."""
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from _walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _walk(value)


def _enum_varname(value: Any) -> str:
    text = str(value)
    name = text.lstrip("-").upper().replace("-", "_").replace(".", "_") or "EMPTY"
    return f"{name}_DESC" if text.startswith("-") else name


def tidy_for_clients(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """A drf-spectacular post-processing hook: make the document say what the API does, so a
    client generated from it (openapi-python-client, openapi-typescript) types it right.

    - Every field of a response component is required: DRF always sends every field (null when
      empty), so none is "maybe absent" — except those marked ``x-optional``.
    - Request fields with a default stay optional: the default moves into the description
      (openapi-typescript makes a field with a ``default`` required).
    - Money and other decimals are never negative here: a pattern without ``-?`` and an example,
      so Swagger UI stops offering ``"-"`` and negative totals. Those that may be (coordinates
      south of the equator or west of Greenwich) are marked ``SIGNED`` and keep it.
    - Enums whose values aren't names (``-price``) get ``x-enum-varnames`` (``PRICE_DESC``),
      not ``VALUE_1``.
    """
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        properties = schema.get("properties") or {}
        if name.endswith("Request"):
            for prop in properties.values():
                if "default" in prop and prop.get("type") != "array":
                    shown = json.dumps(prop.pop("default"), ensure_ascii=False)
                    prop["description"] = f"{prop.get('description', '')} Default: {shown}.".strip()
        elif properties:
            optional = {key for key, prop in properties.items() if prop.pop(OPTIONAL, False)}
            schema["required"] = [key for key in properties if key not in optional]
    for node in _walk(result):
        if node.pop(SIGNED, False):
            pass
        elif node.get("format") == "decimal" and isinstance(node.get("pattern"), str):
            node["pattern"] = node["pattern"].replace("^-?", "^", 1)
            node.setdefault("example", "12.50")
        enum = node.get("enum")
        if (
            isinstance(enum, list)
            and enum
            and any(not str(v).replace("_", "").isalnum() for v in enum if v is not None)
            and "x-enum-varnames" not in node
        ):
            node["x-enum-varnames"] = [_enum_varname(v) for v in enum if v is not None]
    return result


DEMO_BUYER = "With `make run`'s demo data, signed in as `buyer@sudamall.local`"


def request_example(summary: str, value: dict[str, Any], description: str = "") -> OpenApiExample:
    """The body Swagger UI fills in for "Try it out": one that works as it stands against the
    ``make run`` demo data, in the order a buyer meets the flow (cart, checkout, pay)."""
    return OpenApiExample(summary, value=value, description=description, request_only=True)
