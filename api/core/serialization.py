import json
from typing import Any

from rest_framework.utils.encoders import JSONEncoder


def json_safe(data: Any) -> Any:
    """``data`` as plain JSON types, encoded the way API responses are (decimals as strings,
    datetimes as ISO 8601), for storing in JSON columns or sending over the channel layer."""
    return json.loads(json.dumps(data, cls=JSONEncoder))
