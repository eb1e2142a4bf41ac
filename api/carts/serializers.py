from rest_framework import serializers


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    size_id = serializers.IntegerField()
    size_name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    # No digit limit on what is only read: a price raised after the line was added must not
    # make the cart unreadable.
    line_total = serializers.DecimalField(max_digits=None, decimal_places=2)
    available = serializers.IntegerField()
    changes = serializers.ListField(
        child=serializers.ChoiceField(
            ["price_changed", "insufficient_stock", "out_of_stock", "product_unavailable"]
        )
    )


class CartSerializer(serializers.Serializer):
    items = CartLineSerializer(many=True)
    total = serializers.DecimalField(max_digits=None, decimal_places=2)
    currency = serializers.CharField(allow_null=True)
    item_count = serializers.IntegerField()


class CartAddSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    size_id = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text="Required when the product has sizes.",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class CartQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=1000)
