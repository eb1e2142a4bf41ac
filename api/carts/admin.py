from django.contrib import admin

from carts.models import Cart, CartItem


class CartItemInline(admin.TabularInline):
    model = CartItem
    fields = ("product", "size", "quantity", "unit_price", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "updated_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    readonly_fields = ("user", "created_at", "updated_at")
    inlines = [CartItemInline]
