from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from orders.models import Checkout, Order, OrderEvent, OrderLine
from products.serializers import StoreRefSerializer


class ShippingAddressSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150)
    phone = PhoneNumberField()
    line1 = serializers.CharField(max_length=255)
    city = serializers.CharField(max_length=100)
    country = serializers.CharField(max_length=100)

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        value = super().to_internal_value(data)
        value["phone"] = str(value["phone"])  # E.164, JSON-safe
        return value


class OrderLineSerializer(serializers.ModelSerializer):
    product_version = serializers.IntegerField(source="product_version.number")
    size = serializers.CharField(source="size_name")

    class Meta:
        model = OrderLine
        fields = [
            "product_id",
            "product_version",
            "name",
            "size",
            "unit_price",
            "quantity",
            "line_total",
        ]


class EventActorSerializer(serializers.Serializer):
    """Who made a move, as the people on the order may see it: a role and a name to show, never
    a sign-in address."""

    role = serializers.ChoiceField(["buyer", "store", "staff", "system"])
    display_name = serializers.CharField(help_text="The buyer's first name, the store's name…")


class OrderEventSerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="created_at")
    actor = serializers.SerializerMethodField()

    class Meta:
        model = OrderEvent
        fields = ["type", "from_status", "to_status", "at", "actor", "note"]
        read_only_fields = fields

    @extend_schema_field(EventActorSerializer)
    def get_actor(self, event: OrderEvent) -> dict[str, str]:
        order = event.order  # the prefetch set it: no query
        if event.actor_id is None:
            return {"role": "system", "display_name": "Sudamall"}
        if event.actor_id == order.buyer_id:
            first_name = event.actor.first_name if event.actor is not None else ""
            return {"role": "buyer", "display_name": first_name or "Buyer"}
        if event.actor_id == order.store.owner_id:
            return {"role": "store", "display_name": order.store.name}
        return {"role": "staff", "display_name": "Sudamall support"}


class OrderSerializer(serializers.ModelSerializer):
    store = StoreRefSerializer()
    lines = OrderLineSerializer(many=True)
    events = OrderEventSerializer(many=True)
    shipping_address = ShippingAddressSerializer()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "store",
            "lines",
            "total",
            "currency",
            "payment_deadline",
            "shipping_address",
            "events",
            "created_at",
        ]


class CheckoutSerializer(serializers.ModelSerializer):
    orders = OrderSerializer(many=True)

    class Meta:
        model = Checkout
        fields = ["id", "status", "orders", "total", "currency", "payment_deadline", "created_at"]


class CheckoutInputSerializer(serializers.Serializer):
    shipping_address = ShippingAddressSerializer()


class BuyNowItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    size_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class BuyNowSerializer(CheckoutInputSerializer):
    items = BuyNowItemSerializer(many=True, min_length=1, max_length=100)  # type: ignore[call-arg]


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
