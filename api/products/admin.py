from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from core.admin import ReadOnlyAdminMixin
from core.exceptions import ApplicationError
from products import cards
from products.models import (
    Category,
    Product,
    ProductImage,
    ProductVersion,
    Size,
    StockMovement,
    Tag,
)
from products.services import catalog, stock


class SizeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Size
    fields = ("name", "position", "on_hand", "reserved", "deleted_at")
    # Sizes change through the catalogue service (versioned) and stock through the stock
    # service: the "Adjust stock" action on Sizes.
    readonly_fields = fields
    extra = 0
    can_delete = False


class ImageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ProductImage
    fields = ("image", "position")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Product)
class ProductAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-mostly: owners change products through the API, where every change is versioned.
    Staff can soft-delete through the service."""

    list_display = (
        "name", "store", "price", "offer_price", "listed_price", "category", "version", "deleted_at"
    )  # fmt: skip
    list_filter = (("deleted_at", admin.EmptyFieldListFilter), "category")
    search_fields = ("name", "store__name")
    list_select_related = ("store", "category")
    raw_id_fields = ("store",)
    inlines = [SizeInline, ImageInline]
    actions = ["soft_delete", "rebuild_cards"]
    readonly_fields = [
        "store", "name", "description", "price", "currency", "category", "tags", "offer_price",
        "offer_starts_at", "offer_ends_at", "listed_price", "version", "deleted_at", "created_at",
        "updated_at",
    ]  # fmt: skip

    @admin.action(description="Delete (soft) the selected products")
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product in queryset.select_related("store"):
            catalog.delete_product(product=product, user=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"{queryset.count()} product(s) deleted.")

    @admin.action(description="Rebuild the selected products' cards (what lists and pages show)")
    def rebuild_cards(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        written = cards.refresh(queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"{written} card(s) rebuilt; products not on sale have none. "
            "`manage.py rebuild_product_cards` rebuilds them all.",
        )


class AdjustStockForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-1_000_000, max_value=1_000_000, help_text="Units to add (negative to remove)."
    )
    note = forms.CharField(max_length=255, required=False)


@admin.register(Size)
class SizeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "product", "name", "on_hand", "reserved", "deleted_at")
    search_fields = ("product__name", "name")
    list_select_related = ("product",)
    readonly_fields = ("product", "name", "position", "on_hand", "reserved", "deleted_at")
    actions = ["adjust_stock"]

    @admin.action(description="Adjust stock of the selected sizes")
    def adjust_stock(self, request: HttpRequest, queryset: QuerySet[Size]) -> HttpResponse | None:
        form = AdjustStockForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for size in queryset.order_by("pk"):
                try:
                    stock.adjust_stock(
                        size=size,
                        delta=form.cleaned_data["delta"],
                        actor=request.user,  # type: ignore[arg-type]
                        reason=StockMovement.Reason.ADJUSTMENT,
                        note=form.cleaned_data["note"],
                    )
                    done += 1
                except (ApplicationError, ValidationError) as exc:
                    self.message_user(request, f"{size}: {exc}", messages.ERROR)
            self.message_user(request, f"Stock adjusted on {done} size(s).")
            return None
        return TemplateResponse(
            request,
            "admin/products/adjust_stock.html",
            {
                **self.admin_site.each_context(request),
                "title": "Adjust stock",
                "sizes": queryset,
                "form": form,
                "action": "adjust_stock",
                "opts": self.model._meta,
            },
        )


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "size", "reason", "on_hand_delta", "reserved_delta", "actor")
    list_filter = ("reason",)
    list_select_related = ("size", "actor")
    search_fields = ("size__product__name", "reference")
    readonly_fields = [f.name for f in StockMovement._meta.fields]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent", "path")
    search_fields = ("name", "slug")
    list_select_related = ("parent",)
    readonly_fields = ("path",)

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        if not change:
            created = catalog.create_category(name=obj.name, slug=obj.slug, parent=obj.parent)
            obj.pk, obj.path = created.pk, created.path
            return
        parent = obj.parent
        obj.parent = Category.objects.get(pk=obj.pk).parent
        catalog.update_category(category=obj, parent=parent)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request: HttpRequest, obj: Tag, form: Any, change: bool) -> None:
        catalog.update_tag(tag=obj)


@admin.register(ProductVersion)
class ProductVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("product", "number", "actor", "created_at")
    list_select_related = ("product", "actor")
    search_fields = ("product__name",)
    readonly_fields = ("product", "number", "snapshot", "changes", "actor", "created_at")
