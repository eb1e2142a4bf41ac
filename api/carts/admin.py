from django.contrib import admin

from carts.models import Cart, CartItem
from core.admin import ReadOnlyAdminMixin


class CartItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CartItem
    fields = ("product", "size", "quantity", "unit_price", "created_at")
    extra = 0


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What a buyer has in their cart, for support; buyers change it through the API."""

    allow_delete = True  # cascades from a user
    list_display = ("user", "created_at", "updated_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    inlines = [CartItemInline]
