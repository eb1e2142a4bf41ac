import json
from decimal import Decimal
from typing import Any

from rest_framework.utils.encoders import JSONEncoder


class _ApiJSONEncoder(JSONEncoder):
    """DRF's encoder, but decimals stay exact strings, as money is everywhere in the API."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return str(obj)
        return super().default(obj)


def json_safe(data: Any) -> Any:
    """``data`` as plain JSON types, encoded the way API responses are (decimals as strings,
    datetimes as ISO 8601), for storing in JSON columns or sending over the channel layer."""
    return json.loads(json.dumps(data, cls=_ApiJSONEncoder))
