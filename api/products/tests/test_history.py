"""Every change buyers can see makes one version with the right diff; a no-op makes none."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from products.services import catalog
from products.tests.factories import make_category, make_product

pytestmark = pytest.mark.django_db


def latest_changes(product) -> list[dict]:
    return product.versions.order_by("-number").first().changes


def update(product, **data):
    return catalog.update_product(product=product, user=product.store.owner, data=data)


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")


@pytest.mark.parametrize(
    ("data", "field", "old", "new"),
    [
        ({"name": "Silk jalabiya"}, "name", "Cotton jalabiya", "Silk jalabiya"),
        ({"description": "Soft"}, "description", "", "Soft"),
        ({"price": Decimal("120.00")}, "price", "100.00", "120.00"),
        ({"tags": ["eid", "cotton"]}, "tags", [], ["cotton", "eid"]),
    ],
)
def test_a_simple_change_records_its_diff(data, field, old, new):
    product = make_product()

    update(product, **data)

    assert product.versions.count() == 2
    assert latest_changes(product) == [{"field": field, "old": old, "new": new}]


def test_category_change():
    make_category("Men")
    product = make_product()

    update(product, category="men")

    assert latest_changes(product) == [
        {"field": "category", "old": None, "new": {"slug": "men", "name": "Men"}}
    ]


def test_offer_change():
    product = make_product()
    starts = timezone.now().replace(microsecond=0)
    ends = starts + timedelta(days=3)

    update(product, offer={"price": Decimal("75.50"), "starts_at": starts, "ends_at": ends})

    [change] = latest_changes(product)
    assert change["field"] == "offer"
    assert change["old"] is None
    assert change["new"]["price"] == "75.50"
    update(product, offer=None)
    assert latest_changes(product)[0]["new"] is None


def test_size_changes():
    product = make_product(sizes=[{"name": "S", "stock": 1}])
    small = product.sizes.get()

    update(product, sizes=[{"id": small.pk, "name": "S"}, {"name": "M", "stock": 3}])

    [change] = latest_changes(product)
    assert change["field"] == "sizes"
    assert [s["name"] for s in change["new"]] == ["S", "M"]


def test_image_changes():
    product = make_product()

    image = catalog.add_product_image(product=product, user=product.store.owner, upload=png())
    assert latest_changes(product)[0]["field"] == "images"
    catalog.remove_product_image(image=image, user=product.store.owner)
    assert latest_changes(product)[0]["new"] == []
    assert product.versions.count() == 3


def test_deletion():
    product = make_product()

    catalog.delete_product(product=product, user=product.store.owner)

    assert latest_changes(product) == [{"field": "deleted", "old": False, "new": True}]


def test_a_no_op_save_records_nothing():
    product = make_product(tags=["a"])

    update(product, name=product.name, price=Decimal("100.00"), tags=["a"])

    assert product.versions.count() == 1


def test_stock_changes_are_not_versions():
    product = make_product(stock=3)

    update(product, stock=8)

    assert product.versions.count() == 1


def test_the_actor_and_time_are_recorded():
    product = make_product()

    update(product, name="New")

    version = product.versions.order_by("-number").first()
    assert version.actor == product.store.owner
    assert version.number == 2
    assert version.created_at is not None
    product.refresh_from_db()
    assert product.version == 2
