from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from ops.models import WorkerCheck


@admin.register(WorkerCheck)
class WorkerCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    allow_delete = True
    list_display = ("id", "requested_by", "created_at", "completed_at", "worker")
    list_select_related = ("requested_by",)
