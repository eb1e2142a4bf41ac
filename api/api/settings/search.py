"""Search: the backend behind ``?search=`` and the search API, chosen by a dotted path the way
payment gateways are: Elasticsearch when ``ELASTICSEARCH_URL`` is set (answering from the
database while the cluster is down), else the database index."""

from urllib.parse import urlsplit

from api.settings.environment import env, misconfigured

ELASTICSEARCH_URL = env("ELASTICSEARCH_URL", default="")
SEARCH_BACKEND = env(
    "SEARCH_BACKEND",
    default="search.backends.elasticsearch.ElasticsearchSearchBackend"
    if ELASTICSEARCH_URL
    else "search.backends.database.DatabaseSearchBackend",
)
if ELASTICSEARCH_URL and urlsplit(ELASTICSEARCH_URL).scheme not in ("http", "https"):
    raise misconfigured("ELASTICSEARCH_URL", "is not an http(s) URL.", "e.g. http://127.0.0.1:9200")

# Price facet buckets (edges in the default currency): [0, 50), [50, 100) … [5000, ∞).
SEARCH_PRICE_BUCKETS = env.list(
    "SEARCH_PRICE_BUCKETS", default=["0", "50", "100", "250", "500", "1000", "5000"]
)
# Elasticsearch: autosync off — the index is fed by the feed (search.feed), never by signals
# (django_elasticsearch_dsl is deliberately not an installed app: its signal processor would
# connect to every model). Indices are <prefix>-products-v<time> behind <prefix>-products.
ELASTICSEARCH_DSL_AUTOSYNC = False
ELASTICSEARCH_DSL_AUTO_REFRESH = False
SEARCH_ELASTICSEARCH_PREFIX = env("SEARCH_ELASTICSEARCH_PREFIX", default="sudamall")
# After 3 failures in a row (down, timeout, 429, 5xx) searches go to the database this long.
SEARCH_ELASTICSEARCH_COOLDOWN = env.int("SEARCH_ELASTICSEARCH_COOLDOWN", default=30)
# The query log (normalised text, counts, latency; no user) is kept this long.
SEARCH_LOG_DAYS = env.int("SEARCH_LOG_DAYS", default=180)
# Documents a process keeps a copy of for search (search.replica): about 420 bytes each. Above
# it (or 0), each search reads its matching documents from the database instead.
SEARCH_MEMORY_DOCUMENTS = env.int("SEARCH_MEMORY_DOCUMENTS", default=100_000)
