import pytest

from accounts.models import User
from products.models import Category
from products.tests.factories import make_category, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("boss@example.com", password="x-Pass-1234"))
    return client


def test_adjust_stock_action_goes_through_the_stock_service(admin_client):
    size = make_product(stock=4).sizes.get()

    form = admin_client.post(
        "/admin/products/size/", {"action": "adjust_stock", "_selected_action": [size.pk]}
    )
    assert form.status_code == 200
    assert b"Adjust stock" in form.content
    apply = {"apply": "1", "delta": "6", "note": "delivery"}
    done = admin_client.post(
        "/admin/products/size/",
        {"action": "adjust_stock", "_selected_action": [size.pk], **apply},
    )

    assert done.status_code == 302
    size.refresh_from_db()
    assert size.on_hand == 10
    movement = size.movements.order_by("-id").first()
    assert (movement.reason, movement.on_hand_delta, movement.note) == ("adjustment", 6, "delivery")


def test_adjusting_below_reserved_is_refused_with_a_message(admin_client):
    from products.models import Size

    size = make_product(stock=4).sizes.get()
    Size.objects.filter(pk=size.pk).update(reserved=3)
    from datetime import timedelta

    from django.utils import timezone

    from products.models import Reservation

    Reservation.objects.create(
        size=size, quantity=3, expires_at=timezone.now() + timedelta(minutes=5)
    )

    admin_client.post(
        "/admin/products/size/",
        {"action": "adjust_stock", "_selected_action": [size.pk], "apply": "1", "delta": "-2"},
    )

    size.refresh_from_db()
    assert size.on_hand == 4


def test_admin_pages_render(admin_client):
    product = make_product(tags=["wool"])
    make_category("Shoes")
    for url in [
        "/admin/stores/store/",
        "/admin/products/product/",
        f"/admin/products/product/{product.pk}/change/",
        "/admin/products/category/",
        "/admin/products/tag/",
        "/admin/products/productversion/",
        "/admin/products/stockmovement/",
        "/admin/products/size/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_admin_creates_categories_with_their_tree_path(admin_client):
    parent = make_category("Clothing")

    admin_client.post(
        "/admin/products/category/add/", {"name": "Shoes", "slug": "shoes", "parent": parent.pk}
    )

    shoes = Category.objects.get(slug="shoes")
    assert shoes.path == f"{parent.path}{shoes.pk}/"


def test_staff_rebuild_the_selected_products_cards(admin_client):
    import json

    from products.models import ProductCard

    kept, gone = make_product(name="Brass lamp"), make_product(name="Old lamp")
    ProductCard.objects.create(product=kept, version=0, updated_at=kept.updated_at, payload="{}")
    ProductCard.objects.create(product=gone, version=0, updated_at=gone.updated_at, payload="{}")
    gone.deleted_at = gone.updated_at
    gone.save()

    response = admin_client.post(
        "/admin/products/product/",
        {"action": "rebuild_cards", "_selected_action": [kept.pk, gone.pk]},
        follow=True,
    )

    assert b"1 card(s) rebuilt" in response.content
    card = ProductCard.objects.get(product=kept)
    assert (card.version, json.loads(card.payload)["name"]) == (kept.version, "Brass lamp")
    assert not ProductCard.objects.filter(product=gone).exists()
