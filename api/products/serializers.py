from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.openapi import OPTIONAL
from core.serializers import QueryBooleanField, QuerySerializer
from products import selectors
from products.models import Category, Product, ProductImage, ProductVersion, Size, Tag
from search.serializers import FacetsSerializer


class StoreRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class SizeSerializer(serializers.ModelSerializer):
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = Size
        fields = ["id", "name", "available"]

    def to_representation(self, instance: Size) -> dict:
        data = super().to_representation(instance)
        data["available"] = max(data["available"] or 0, 0)
        return data


class OfferSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class OfferOutSerializer(OfferSerializer):
    is_active = serializers.BooleanField()


class ImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductImage
        fields = ["id", "image", "position"]


class ProductSerializer(serializers.ModelSerializer):
    current_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    store = StoreRefSerializer(read_only=True)
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    tags: serializers.Field = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    sizes = SizeSerializer(source="live_sizes", many=True, read_only=True)
    offer = serializers.SerializerMethodField()
    images = ImageSerializer(many=True, read_only=True)
    availability = serializers.SerializerMethodField()
    is_favorite = serializers.BooleanField(read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "price",
            "current_price",
            "currency",
            "store",
            "category",
            "tags",
            "sizes",
            "offer",
            "max_per_buyer",
            "images",
            "availability",
            "is_favorite",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OfferOutSerializer(allow_null=True))
    def get_offer(self, product: Product) -> dict | None:
        if product.offer_price is None:
            return None
        return OfferOutSerializer(
            {
                "price": product.offer_price,
                "starts_at": product.offer_starts_at,
                "ends_at": product.offer_ends_at,
                "is_active": selectors.offer_is_active(product, timezone.now()),
            }
        ).data

    @extend_schema_field(serializers.ChoiceField(["in_stock", "low_stock", "out_of_stock"]))
    def get_availability(self, product: Product) -> str:
        return selectors.availability(product)


# A product page's worth of text: a catalogue page of 100 products stays well under a megabyte.
DESCRIPTION_MAX_LENGTH = 5000


class SizeInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="An existing size to keep or change.",
    )
    name = serializers.CharField(max_length=50)
    stock = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)


class ProductCreateSerializer(serializers.Serializer):
    store_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH
    )
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    category = serializers.SlugField(
        required=False, allow_null=True, allow_unicode=True, help_text="A category slug."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )
    sizes = SizeInputSerializer(many=True, required=False, max_length=50)  # type: ignore[call-arg]
    stock = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, help_text="For a product without sizes."
    )
    offer = OfferSerializer(required=False, allow_null=True)
    max_per_buyer = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, allow_null=True,
        help_text="For a drop: units one buyer may buy in all. Null: no cap.",
    )  # fmt: skip


class ProductUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    category = serializers.SlugField(allow_null=True, allow_unicode=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=20)
    sizes = SizeInputSerializer(many=True, max_length=50)  # type: ignore[call-arg]
    stock = serializers.IntegerField(min_value=0, max_value=1_000_000)
    offer = OfferSerializer(allow_null=True)
    max_per_buyer = serializers.IntegerField(
        min_value=1, max_value=1_000_000, allow_null=True,
        help_text="For a drop: units one buyer may buy in all. Null: no cap.",
    )  # fmt: skip

    def validate_offer(self, offer: dict | None) -> dict | None:
        # A PATCH is partial, but an offer is all or nothing.
        if offer is not None and set(offer) != {"price", "starts_at", "ends_at"}:
            raise serializers.ValidationError(
                "An offer needs price, starts_at and ends_at (or null to end it)."
            )
        return offer

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            # PUT needs the product's own fields; sizes/stock/tags/offer stay optional.
            field.required = not self.partial and name in {"name", "price"}


class ImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG, WebP or GIF; at most 2 MB.")


class SnapshotCategorySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class SnapshotSizeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="Empty for a product without sizes.")


class SnapshotOfferSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class ProductSnapshotSerializer(serializers.Serializer):
    """What buyers saw of the product at that version."""

    name = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    category = SnapshotCategorySerializer(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    sizes = SnapshotSizeSerializer(many=True)
    images = serializers.ListField(child=serializers.CharField(), help_text="Stored file paths.")
    offer = SnapshotOfferSerializer(allow_null=True)
    max_per_buyer = serializers.SerializerMethodField()
    deleted = serializers.BooleanField()

    @extend_schema_field(
        {"type": "integer", "nullable": True, OPTIONAL: True,
         "description": "Absent from versions recorded before caps existed."}
    )  # fmt: skip
    def get_max_per_buyer(self, snapshot: dict) -> int | None:
        return snapshot.get("max_per_buyer")


class ProductChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="A key of the snapshot: `price`, `sizes`, `offer`…")
    old = serializers.JSONField(allow_null=True, help_text="The value before, as in a snapshot.")
    new = serializers.JSONField(allow_null=True, help_text="The value after.")


class VersionActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(help_text="Only the store's owner and staff see history.")


class ProductVersionSerializer(serializers.ModelSerializer):
    snapshot = ProductSnapshotSerializer(read_only=True)
    changes = ProductChangeSerializer(many=True, read_only=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = ProductVersion
        fields = ["number", "snapshot", "changes", "actor", "created_at"]

    @extend_schema_field(VersionActorSerializer(allow_null=True))
    def get_actor(self, version: ProductVersion) -> dict | None:
        actor = version.actor
        return None if actor is None else {"id": actor.pk, "email": actor.email}


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(  # type: ignore[assignment,var-annotated]
        slug_field="slug", read_only=True, allow_null=True, help_text="null for a top category"
    )

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent"]

    @staticmethod
    def shown(pk: int, name: str, slug: str, parent: str | None) -> dict[str, Any]:
        """What this serializer shows of a category, from its row (``selectors.category_page``)
        rather than an instance: four plain values need no walk over the fields."""
        return {"id": pk, "name": name, "slug": slug, "parent": parent}


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "slug"]

    @staticmethod
    def shown(pk: int, name: str, slug: str) -> dict[str, Any]:
        """What this serializer shows of a tag, from its row (``selectors.tag_page``)."""
        return {"id": pk, "name": name, "slug": slug}


class ProductListQuerySerializer(QuerySerializer):
    search = serializers.CharField(required=False, max_length=100)
    category = serializers.SlugField(required=False, allow_unicode=True)
    tag = serializers.SlugField(required=False, allow_unicode=True)
    store = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    min_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, min_value=Decimal(0)
    )
    max_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, min_value=Decimal(0)
    )
    in_stock = QueryBooleanField(required=False)
    has_offer = QueryBooleanField(required=False)
    size = serializers.CharField(required=False, max_length=50)
    ordering = serializers.ChoiceField(choices=list(selectors.ORDERINGS), required=False)


class ProductSearchQuerySerializer(ProductListQuerySerializer):
    search = None  # type: ignore[assignment]  # the search page's words are `q`
    q = serializers.CharField(
        required=False, max_length=100, allow_blank=True, trim_whitespace=False
    )


class SearchPageSerializer(serializers.Serializer):
    """For the schema: a page of products with the facets of everything that matched."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ProductSerializer(many=True)
    facets = FacetsSerializer()
    backend = serializers.CharField(
        help_text="which backend answered: `database` or `elasticsearch` (the database while "
        "the cluster is down)"
    )
    query_id = serializers.UUIDField(
        allow_null=True, help_text="send with clicks (POST /api/search/clicks/); null without q"
    )
