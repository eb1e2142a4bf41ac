"""Every JSON answer a test receives from /api/ is checked against the OpenAPI document the
project serves: its status must be documented for that operation, and its body must match the
documented schema — required fields present, nothing null that isn't nullable, types, enums.

Schemathesis fuzzes the document with generated requests; this checks it against the thousands
of realistic requests the suite makes (orders with events, products with offers, refunds...),
so a client generated from the document agrees with what the server really sends.
"""

import functools
import json
import re
import threading
from typing import Any

import jsonschema
from django.test.utils import override_settings

SKIP_PATHS = ("/api/schema/",)


@functools.cache
def _document() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    with override_settings(DEBUG=False):
        return SchemaGenerator().get_schema(request=None, public=True)


@functools.cache
def _routes() -> list[tuple[re.Pattern[str], str]]:
    routes = []
    for template in _document()["paths"]:
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        routes.append((re.compile(f"^{pattern}$"), template))
    # Literal segments win over parameters: /api/cart/items/{id}/ after /api/cart/add/.
    routes.sort(key=lambda route: route[1].count("{"))
    return routes


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0's schema dialect as JSON Schema: ``nullable`` becomes a null alternative."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _json_schema(value) for key, value in schema.items() if key != "nullable"}
    converted.pop("readOnly", None)
    converted.pop("writeOnly", None)
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@functools.cache
def _components() -> dict[str, Any]:
    return _json_schema(_document().get("components", {}))


class UndocumentedResponse(AssertionError):
    pass


# Concurrency tests send requests from many threads at once: the document is made once, by one
# of them (making it flips settings.DEBUG, which is global).
_MAKING = threading.Lock()


def check(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    if not path.startswith("/api/") or path.startswith(SKIP_PATHS):
        return
    with _MAKING:
        _routes(), _components()
    template = next((t for pattern, t in _routes() if pattern.match(path)), None)
    if template is None:
        return  # no operation: the catch-all 404/308 for unknown paths (core.apis)
    operation = _document()["paths"][template].get(method.lower())
    if operation is None:
        return  # 405 from DRF for a method the path doesn't have
    if status == 308:
        return
    responses = operation.get("responses", {})
    documented = responses.get(str(status)) or responses.get("default")
    if documented is None:
        raise UndocumentedResponse(
            f"{method} {template} answered {status}, not among {sorted(responses)}: {body[:300]!r}"
        )
    schema = (documented.get("content") or {}).get("application/json", {}).get("schema")
    if schema is None or "json" not in content_type or not body:
        return
    instance = json.loads(body)
    # The components ride along, so "#/components/schemas/X" resolves inside the same document.
    document = {**_json_schema(schema), "components": _components()}
    try:
        jsonschema.Draft7Validator(document).validate(instance)
    except jsonschema.ValidationError as error:
        where = "/".join(str(p) for p in error.absolute_path)
        raise UndocumentedResponse(
            f"{method} {path} ({template}) {status}: at {where or 'the top'}: {error.message}"
        ) from None
