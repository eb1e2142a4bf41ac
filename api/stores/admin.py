from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from stores.models import Store
from stores.services import save_store_as_staff


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_active", "latitude", "longitude", "created_at")
    list_filter = ("is_active", ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "slug", "owner__email", "address")
    list_select_related = ("owner",)
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at", "deleted_at")

    def save_model(self, request: HttpRequest, obj: Store, form: Any, change: bool) -> None:
        save_store_as_staff(store=obj)
