import pytest
from django.core.management import CommandError, call_command

from products.models import Product, ProductVersion, Size, StockMovement
from products.services import history
from stores.models import Store

pytestmark = pytest.mark.django_db


def test_demo_data_builds_a_consistent_catalogue(settings, capsys):
    settings.DEBUG = True

    call_command("demo_data", "--products", "60", "--stores", "4")

    assert Product.objects.count() == 60
    assert Store.objects.count() == 4
    assert Size.objects.filter(product__isnull=False).count() >= 60
    assert Product.objects.filter(images__isnull=False).exists()
    # Every product has a first version whose snapshot is exactly what the history service
    # would have written, so later edits diff against it correctly.
    for product in Product.objects.all()[:60]:
        version = ProductVersion.objects.get(product=product)
        assert version.number == product.version == 1
        assert version.snapshot == history.snapshot(product)
    # The ledger accounts for every unit on hand.
    for size in Size.objects.all():
        total = sum(size.movements.values_list("on_hand_delta", flat=True))
        assert total == size.on_hand
    assert "Created 60 products" in capsys.readouterr().out
    assert StockMovement.objects.exists()


def test_if_empty_leaves_an_existing_catalogue_alone(settings):
    settings.DEBUG = True
    call_command("demo_data", "--products", "5")

    call_command("demo_data", "--products", "5", "--if-empty")

    assert Product.objects.count() == 5


def test_demo_data_refuses_to_run_in_production(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError):
        call_command("demo_data", "--products", "5")


def test_the_demo_catalogue_makes_sense(settings):
    from products.management.demo_catalogue import CATALOGUE, STORES

    settings.DEBUG = True
    call_command("demo_data", "--products", "150")

    shelves = {
        item.english: (department.name, shelf, item)
        for department in CATALOGUE
        for shelf, items in department.shelves.items()
        for item in items
    }
    plans = {p.english: p for p in STORES} | {p.arabic: p for p in STORES}
    arabic_letters = set("ابتثجحخدذرزسشصضطظعغفقكلمنهوي")
    for product in Product.objects.select_related("store", "category__parent").prefetch_related(
        "sizes", "images"
    ):
        plan = plans[product.store.name]
        department, shelf, item = next(
            entry
            for entry in shelves.values()
            if product.name in (entry[2].english, entry[2].arabic)
        )
        # What a store sells, it sells under the right category, in its own language.
        assert department in plan.departments, (product.name, product.store.name)
        assert (product.category.parent.name, product.category.name) == (department, shelf)
        assert bool(arabic_letters & set(product.name)) == plan.arabic_names
        # Sizes from the item's own size system; a price in its range.
        assert [s.name for s in product.sizes.all()] == (item.sizes or [""])
        assert item.price_range[0] <= product.price <= item.price_range[1]
        assert product.images.count() == 1
    for store in Store.objects.all():
        plan = plans[store.name]
        assert abs(float(store.latitude) - plan.latitude) < 0.1
        assert abs(float(store.longitude) - plan.longitude) < 0.1


def test_the_first_product_is_the_one_the_api_examples_buy(settings):
    settings.DEBUG = True
    call_command("demo_data", "--products", "20")

    first = Product.objects.order_by("pk").first()
    assert first is not None
    assert [size.name for size in first.sizes.all()] == [""]  # no sizes: no size_id needed
    assert first.sizes.get().on_hand >= 2
