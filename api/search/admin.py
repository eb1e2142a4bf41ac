from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdminMixin
from search import services
from search.models import IndexChange, PopularQuery, SearchClick, SearchQuery, SynonymGroup


@admin.register(SynonymGroup)
class SynonymGroupAdmin(admin.ModelAdmin):
    """Words a shopper uses for the same thing. Searches use a change from the next query on,
    on every backend; nothing is reindexed."""

    list_display = ("words", "updated_at")
    search_fields = ("words",)

    def save_model(self, request: HttpRequest, obj: SynonymGroup, form: Any, change: bool) -> None:
        services.save_synonyms(group=obj)

    def delete_model(self, request: HttpRequest, obj: SynonymGroup) -> None:
        services.delete_synonyms(group=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SynonymGroup]) -> None:
        for group in queryset:
            services.delete_synonyms(group=group)


class SearchClickInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SearchClick
    fields = ("position", "product_id", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class ZeroResultsFilter(admin.SimpleListFilter):
    title = "results"
    parameter_name = "found"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Found nothing"), ("yes", "Found something")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(results=0)
        if self.value() == "yes":
            return queryset.filter(results__gt=0)
        return queryset


@admin.register(SearchQuery)
class SearchQueryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The query log: what was searched (normalised; nothing about who), what it found, on
    which backend, how fast, and which results were opened."""

    list_display = ("created_at", "text", "results", "clicked", "backend", "latency_ms")
    list_filter = (ZeroResultsFilter, "backend", "created_at")
    search_fields = ("text",)
    date_hierarchy = "created_at"
    readonly_fields = ("id", "text", "results", "backend", "latency_ms", "created_at")
    inlines = [SearchClickInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SearchQuery]:
        return super().get_queryset(request).annotate(click_count=Count("clicks"))

    @admin.display(description="clicks", ordering="click_count")
    def clicked(self, obj: SearchQuery) -> int:
        return obj.click_count  # type: ignore[attr-defined]


@admin.register(PopularQuery)
class PopularQueryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Offered as suggestions; rebuilt hourly from the query log (last 30 days). Staff may
    delete one that shouldn't be suggested, until the next hourly rebuild (nobody is logged,
    so anyone can plant a text by searching it three times; there is no blocklist yet)."""

    allow_delete = True
    list_display = ("text", "searches")
    search_fields = ("text",)
    ordering = ("-searches",)


@admin.register(IndexChange)
class IndexChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Catalogue changes the index hasn't taken yet (a worker drains them within seconds; a
    long list means no worker is running)."""

    list_display = ("created_at", "kind", "object_id")
    list_filter = ("kind",)
