"""Times the catalogue endpoints against whatever database the environment configures, after
`manage.py demo_data --products N` has filled it. Prints status, median time over 5 runs, query
count and result count per URL. Not a test: speed is measured here, correctness by the suite.

    DEBUG=true python bench/catalog.py
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.settings")

import django

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from products.models import Product  # noqa: E402

URLS = [
    "/api/products/?page_size=20",
    "/api/products/?page_size=100",
    "/api/products/?category=clothing&page_size=20",
    "/api/products/?in_stock=true&ordering=price&page_size=20",
    "/api/products/?search=oud&page_size=20",
    "/api/products/?min_price=100&max_price=200&has_offer=true",
    "/api/stores/?near=15.5,32.5&radius_km=50",
    "/api/categories/",
]


def main() -> None:
    client = Client(HTTP_HOST="localhost")
    print(f"{connection.vendor}, {Product.objects.count()} products")
    for url in URLS:
        timings = []
        for _ in range(5):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
        count = response.json().get("count")
        print(
            f"{response.status_code} {statistics.median(timings) * 1000:8.1f} ms "
            f"{len(queries):3d} queries {count!s:>7} {url}"
        )


if __name__ == "__main__":
    main()
