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
