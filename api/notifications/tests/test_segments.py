"""Segments: the whitelisted fields the domain apps register, filters and grouped counts."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import StaffUserFactory, UserFactory
from carts.models import Cart, CartItem
from notifications import segments
from orders.models import Order
from orders.tests.factories import SHIPPING_ADDRESS, paid_checkout, place_checkout
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db

URL = "/api/notifications/segments/preview/"


def _order(buyer: User, product, *, city: str, status: str | None = None, quantity: int = 1):
    checkout = (paid_checkout if status != "pending" else place_checkout)(
        buyer, product, quantity=quantity
    )
    orders = Order.objects.filter(checkout=checkout)
    orders.update(shipping_address={**SHIPPING_ADDRESS, "city": city})
    if status not in (None, "pending"):
        orders.update(status=status)
    return orders.get()


def _cart(user: User, product, *, changed_hours_ago: float) -> None:
    cart = Cart.objects.create(user=user)
    item = CartItem.objects.create(
        cart=cart, product=product, size=product.sizes.first(), quantity=1, unit_price=10
    )
    moment = timezone.now() - timedelta(hours=changed_hours_ago)
    CartItem.objects.filter(pk=item.pk).update(created_at=moment, updated_at=moment)


@pytest.fixture
def people() -> dict[str, User]:
    """Buyers with histories, a business owner (the product's), an inactive buyer and staff."""
    product = make_product(stock=100, price=Decimal("100.00"))
    amna = UserFactory(first_name="Amna")
    badr = UserFactory(first_name="Badr")
    carl = UserFactory(first_name="Carl")
    dormant = UserFactory(first_name="Dormant", is_active=False)
    _order(amna, product, city="Khartoum")
    _order(badr, product, city="Khartoum", quantity=2)
    _order(badr, product, city="Omdurman", status=Order.Status.DELIVERED)
    _order(carl, product, city="Port Sudan", status="pending")
    _order(dormant, product, city="Khartoum", status=Order.Status.REFUNDED)
    _cart(amna, product, changed_hours_ago=30)
    _cart(badr, product, changed_hours_ago=2)
    Cart.objects.create(user=carl)
    User.objects.filter(pk=amna.pk).update(date_joined=datetime(2025, 6, 1, tzinfo=UTC))
    StaffUserFactory(first_name="Staff")
    owner = product.store.owner
    return {"amna": amna, "badr": badr, "carl": carl, "dormant": dormant, "owner": owner}


def _members(filters: dict) -> set[str]:
    return set(segments.users(filters).values_list("first_name", flat=True))


def test_every_field_the_api_names_is_registered_by_its_app():
    assert {f.name for f in segments.all_fields()} == {
        "account_type", "city", "date_joined", "last_purchase_at", "total_spent", "cart_state",
        "is_active",
    }  # fmt: skip
    assert {f.name for f in segments.all_fields() if f.groupable} == {
        "account_type", "city", "cart_state", "is_active",
    }  # fmt: skip


def test_no_filters_is_every_user_but_staff(people):
    owner = people["owner"].first_name
    assert _members({}) == {"Amna", "Badr", "Carl", "Dormant", owner}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"account_type": "buyer"}, {"Amna", "Badr", "Carl", "Dormant"}),
        ({"account_type": ["business_owner"]}, {"owner"}),
        ({"city": "Khartoum"}, {"Amna", "Dormant"}),
        ({"city": ["Omdurman", "Port Sudan"]}, {"Badr", "Carl"}),
        ({"city": [None]}, {"owner"}),
        ({"total_spent": {"gte": "150"}}, {"Badr"}),  # 200 + 100 delivered
        ({"total_spent": {"gt": 0, "lt": "150.50"}}, {"Amna"}),  # refunded is not spent
        ({"total_spent": {"lte": 0}}, {"Carl", "Dormant", "owner"}),
        ({"last_purchase_at": {"isnull": True}}, {"Carl", "Dormant", "owner"}),
        ({"last_purchase_at": {"gte": "2020-01-01"}}, {"Amna", "Badr"}),
        ({"cart_state": "abandoned"}, {"Amna"}),
        ({"cart_state": "active"}, {"Badr"}),
        ({"cart_state": "empty"}, {"Carl", "Dormant", "owner"}),
        ({"is_active": False}, {"Dormant"}),
        ({"date_joined": {"lt": "2026-01-01"}}, {"Amna"}),
        ({"date_joined": {"gte": "2025-06-01", "lte": "2025-06-01"}}, {"Amna"}),  # whole day
        ({"date_joined": {"gt": "2025-06-01"}}, {"Badr", "Carl", "Dormant", "owner"}),
        ({"date_joined": {"lt": "2025-06-01T00:00:01Z"}}, {"Amna"}),
        (
            {
                "account_type": "buyer",
                "city": "Khartoum",
                "is_active": True,
                "total_spent": {"gte": "1"},
                "cart_state": ["abandoned", "active"],
            },
            {"Amna"},
        ),
    ],
)
def test_filters_select_the_users_they_describe(people, filters, expected):
    names = {people["owner"].first_name if n == "owner" else n for n in expected}
    assert _members(filters) == names


def test_filters_are_stored_in_one_canonical_form():
    assert segments.validate_filters(
        {"account_type": "buyer", "total_spent": {"gte": 100}, "is_active": True}
    ) == {"account_type": ["buyer"], "total_spent": {"gte": "100"}, "is_active": True}


def test_preview_counts_each_group_in_one_query(people):
    with CaptureQueriesContext(connection) as queries:
        groups, truncated = segments.preview({"account_type": "buyer"}, ["city", "cart_state"])
    assert len(queries) == 1
    assert not truncated
    counted = {(g["values"]["city"], g["values"]["cart_state"]): g["count"] for g in groups}
    assert counted == {
        ("Khartoum", "abandoned"): 1,
        ("Khartoum", "empty"): 1,
        ("Omdurman", "active"): 1,
        ("Port Sudan", "empty"): 1,
    }


def test_preview_without_grouping_is_one_count(people):
    with CaptureQueriesContext(connection) as queries:
        groups, _ = segments.preview({"is_active": True})
    assert len(queries) == 1
    assert groups == [{"values": {}, "count": 4}]


def test_a_group_of_booleans_and_nulls(people):
    groups, _ = segments.preview({}, ["is_active", "city"])
    counted = {(g["values"]["is_active"], g["values"]["city"]): g["count"] for g in groups}
    assert counted == {
        (True, "Khartoum"): 1, (True, "Omdurman"): 1, (True, "Port Sudan"): 1, (True, None): 1,
        (False, "Khartoum"): 1,
    }  # fmt: skip
    assert groups[0]["count"] >= groups[-1]["count"]


def test_the_preview_api_gives_counts_and_never_an_address(people, staff_client):
    for group_by in ([], ["account_type"], ["city", "is_active"], ["cart_state", "account_type"]):
        response = staff_client.post(URL, {"filters": {}, "group_by": group_by}, format="json")
        assert response.status_code == 200, response.content
        assert "@" not in response.content.decode()
        body = response.json()
        assert sum(g["count"] for g in body["groups"]) == 5
        assert body["truncated"] is False
    response = staff_client.post(URL, {"group_by": ["account_type"]}, format="json")
    assert {g["values"]["account_type"]: g["count"] for g in response.json()["groups"]} == {
        "buyer": 4,
        "business_owner": 1,
    }


def test_the_preview_api_query_budget(people, staff_client, django_assert_max_num_queries):
    # The caller's user row, the grouped count.
    with django_assert_max_num_queries(2):
        response = staff_client.post(
            URL,
            {"filters": {"total_spent": {"gte": "1"}}, "group_by": ["city", "cart_state"]},
            format="json",
        )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filters": {"email": "a@example.com"}}, "email"),
        ({"filters": {"account_type": "admin"}}, "account_type"),
        ({"filters": {"account_type": 3}}, "account_type"),
        ({"filters": {"account_type": []}}, "account_type"),
        ({"filters": {"city": {"gte": "A"}}}, "city"),
        ({"filters": {"city": ["x" * 201]}}, "city"),
        ({"filters": {"is_active": "true"}}, "is_active"),
        ({"filters": {"is_active": 1}}, "is_active"),
        ({"filters": {"date_joined": "2026-01-01"}}, "date_joined"),
        ({"filters": {"date_joined": {"after": "2026-01-01"}}}, "date_joined"),
        ({"filters": {"date_joined": {"gte": "yesterday"}}}, "date_joined"),
        ({"filters": {"date_joined": {"gte": "2026-02-30"}}}, "date_joined"),
        ({"filters": {"date_joined": {"gte": 20260101}}}, "date_joined"),
        ({"filters": {"last_purchase_at": {"isnull": "yes"}}}, "last_purchase_at"),
        ({"filters": {"total_spent": {"gte": "lots"}}}, "total_spent"),
        ({"filters": {"total_spent": {"gte": True}}}, "total_spent"),
        ({"filters": {"total_spent": {"gte": "NaN"}}}, "total_spent"),
        ({"filters": {"total_spent": {"gte": "1e20"}}}, "total_spent"),
        ({"filters": {"total_spent": 100}}, "total_spent"),
        ({"filters": {"cart_state": "forgotten"}}, "cart_state"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(staff_client, body, field):
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["code"] == "invalid"
    assert list(payload["details"]["filters"]) == [field]


@pytest.mark.parametrize(
    "body",
    [
        {"group_by": ["total_spent"]},
        {"group_by": ["email"]},
        {"group_by": ["city", "city"]},
        {"group_by": ["city", "cart_state", "account_type", "is_active"]},
        {"group_by": "city"},
        {"filters": ["city"]},
        {"filters": "city=Khartoum"},
    ],
)
def test_a_bad_grouping_or_filters_shape_is_a_400(staff_client, body):
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    details = response.json()["details"]
    assert set(details) <= {"group_by", "filters"}
    assert details


def test_the_filters_never_match_everyone_silently():
    with pytest.raises(segments.ValidationError) as raised:
        segments.users({"acount_type": "buyer"})
    assert "acount_type" in raised.value.message_dict


def test_the_preview_is_staff_only(people, api_client, make_auth_client):
    assert api_client.post(URL, {}, format="json").status_code == 401
    for person in (people["amna"], people["owner"]):
        response = make_auth_client(person).post(URL, {}, format="json")
        assert response.status_code == 403
        assert json.loads(response.content)["code"] == "permission_denied"
