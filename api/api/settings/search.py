"""Search: the backend behind ``?search=`` and the search API, chosen by a dotted path the way
payment gateways are. Elasticsearch (``ELASTICSEARCH_URL``) is the search issue's to fill in."""

from urllib.parse import urlsplit

from api.settings.environment import env, misconfigured

SEARCH_BACKEND = env("SEARCH_BACKEND", default="search.backends.database.DatabaseSearchBackend")
ELASTICSEARCH_URL = env("ELASTICSEARCH_URL", default="")
if ELASTICSEARCH_URL and urlsplit(ELASTICSEARCH_URL).scheme not in ("http", "https"):
    raise misconfigured("ELASTICSEARCH_URL", "is not an http(s) URL.", "e.g. http://127.0.0.1:9200")
