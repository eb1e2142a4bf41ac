"""OpenAPI helpers: the error schema and the error responses every operation can produce.

``add_error_responses`` (a drf-spectacular post-processing hook) documents the errors that the
framework raises on its own — 400 for input, 401/403 for protected operations, 404 for paths
with an id, 429 from the throttles — so views declare only their business errors (409, 402...)
with ``error_responses(...)``.
"""

import functools
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
    "429": "Too many requests (`throttled`); see the `Retry-After` header.",
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
            # Provider webhooks: the raw body is read as sent (no parser, so no 415) and they
            # are not throttled (no 429).
            raw_webhook = operation.pop(RAW_WEBHOOK, False)
            wanted = set() if raw_webhook else {"429"}
            if method in {"put", "patch", "post"} or any(
                p.get("in") == "query" for p in operation.get("parameters", [])
            ):
                wanted.add("400")
            if method in {"put", "patch", "post"} and "requestBody" in operation:
                wanted |= set() if raw_webhook else {"415"}
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
            if "429" in responses:
                responses["429"].setdefault(
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
