from datetime import date, timedelta

from django.utils import timezone
from rest_framework import serializers

from core.serializers import QuerySerializer


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What to pass as the filter (a slug, an id, a size)")
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    count = serializers.IntegerField()
    parent = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.parent
        allow_null=True, help_text="a category's parent's slug (the facet is a tree); else null"
    )


class PriceBucketSerializer(serializers.Serializer):
    count = serializers.IntegerField()

    def get_fields(self):  # type: ignore[no-untyped-def]
        # "from" is a Python keyword: declared here instead of as an attribute.
        fields = super().get_fields()
        fields["from"] = serializers.DecimalField(max_digits=12, decimal_places=2)
        fields["to"] = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
        return fields


class TrueFalseCountSerializer(serializers.Serializer):
    def get_fields(self):  # type: ignore[no-untyped-def]
        return {"true": serializers.IntegerField(), "false": serializers.IntegerField()}


class FacetsSerializer(serializers.Serializer):
    category = FacetValueSerializer(many=True)
    store = FacetValueSerializer(many=True)
    size = FacetValueSerializer(many=True)
    tag = FacetValueSerializer(many=True)
    price = PriceBucketSerializer(many=True)
    in_stock = TrueFalseCountSerializer()
    has_offer = TrueFalseCountSerializer()


class SuggestQuerySerializer(QuerySerializer):
    q = serializers.CharField(max_length=100, trim_whitespace=False, allow_blank=True)
    size = serializers.IntegerField(required=False, default=10, min_value=1, max_value=15)


class SuggestionSerializer(serializers.Serializer):
    text = serializers.CharField()
    kind = serializers.ChoiceField(choices=["product", "category", "store", "query"])
    id = serializers.CharField(
        allow_null=True, help_text="product or store id, category slug; null for a query"
    )


class SuggestionsSerializer(serializers.Serializer):
    suggestions = SuggestionSerializer(many=True)


class ClickSerializer(serializers.Serializer):
    query_id = serializers.UUIDField()
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    position = serializers.IntegerField(min_value=1, max_value=1000, help_text="1-based")


class SearchAnalyticsQuerySerializer(QuerySerializer):
    # "from" is a keyword too: both read by name in get_fields.
    def get_fields(self):  # type: ignore[no-untyped-def]
        return {
            "from": serializers.DateField(required=False, help_text="default: 30 days ago"),
            "to": serializers.DateField(required=False, help_text="default: today (inclusive)"),
        }

    def validate(self, attrs):  # type: ignore[no-untyped-def]
        earliest, latest = date(2000, 1, 1), timezone.now().date() + timedelta(days=1)
        for name in ("from", "to"):
            if attrs.get(name) and not earliest <= attrs[name] <= latest:
                raise serializers.ValidationError({name: [f"Between {earliest} and {latest}."]})
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": ["Must not be after `to`."]})
        return attrs


class SearchQueryCountSerializer(serializers.Serializer):
    text = serializers.CharField()
    searches = serializers.IntegerField()
    clicks = serializers.IntegerField()


class SearchDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    searches = serializers.IntegerField()
    zero_results = serializers.IntegerField()
    clicks = serializers.IntegerField()
    click_through_rate = serializers.FloatField()


class SearchAnalyticsSerializer(serializers.Serializer):
    top_queries = SearchQueryCountSerializer(many=True)
    zero_result_queries = SearchQueryCountSerializer(many=True)
    click_through_rate = serializers.FloatField(
        help_text="searches with at least one click / searches"
    )
    by_day = SearchDaySerializer(many=True)
