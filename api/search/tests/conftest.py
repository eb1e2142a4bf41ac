from collections.abc import Iterator
from typing import Any

import pytest

from search import elastic
from search.backends.elasticsearch import CURRENT_PRICE_SCRIPT
from search.tests import fake_es
from search.tests.fake_es import FakeCluster, FakeNode


@pytest.fixture
def es(settings: Any) -> Iterator[FakeCluster]:
    """Elasticsearch configured, answered by an in-memory Elasticsearch 9 behind the real
    client (``fake_es``)."""
    settings.ELASTICSEARCH_URL = "http://es.test:9200"
    settings.SEARCH_BACKEND = "search.backends.elasticsearch.ElasticsearchSearchBackend"
    settings.SEARCH_ELASTICSEARCH_NODE_CLASS = "search.tests.fake_es.FakeNode"
    settings.SEARCH_ELASTICSEARCH_PREFIX = "sudamall"
    cluster = FakeCluster()
    cluster.scripts[CURRENT_PRICE_SCRIPT] = fake_es.current_price
    FakeNode.cluster = cluster
    elastic._client.cache_clear()
    yield cluster
    FakeNode.cluster = None
    elastic._client.cache_clear()
