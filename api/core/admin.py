from django.contrib import admin

from core.models import IdempotencyKey, WorkerCheck


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "method", "path", "status", "response_status", "created_at")
    list_filter = ("status", "method")
    search_fields = ("key", "path", "user__email")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(WorkerCheck)
class WorkerCheckAdmin(admin.ModelAdmin):
    list_display = ("id", "requested_by", "created_at", "completed_at", "worker")
    list_select_related = ("requested_by",)
    readonly_fields = ("id", "requested_by", "created_at", "completed_at", "worker")

    def has_add_permission(self, request: object) -> bool:
        return False
