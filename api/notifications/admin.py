"""Admin for notifications: what each user's sockets were told, the in-app rows, staff's email
templates and assets (checked on save, previewed in place, test-sent), and the email queue —
every dispatch with its state, the rendered email and its attempts log, dead letters resent
through the same service the sweep uses. Tracking, suppression, subscribers and campaigns are in
``admin_tracking``, ``admin_newsletter`` and ``admin_campaigns``."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from post_office import models as post_office

from core.admin import ReadOnlyAdminMixin
from notifications import services, templates
from notifications.models import Asset, Dispatch, Notification, Template, UserEvent
from notifications.rendering import (
    TemplateProblem,
    check_template,
    preview_context,
    render_subject,
)


@admin.register(UserEvent)
class UserEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each user's sockets were told, for support ("I never heard my payment went
    through"). Pruned by beat after a day beyond the newest thousand."""

    allow_delete = True  # cascades from a user
    list_display = ("created_at", "user", "seq", "type")
    list_filter = ("type",)
    search_fields = ("=user__email", "type")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    allow_delete = True  # cascades from a user
    list_display = ("created_at", "user", "kind", "title", "read_at")
    list_filter = ("kind",)
    search_fields = ("=user__email",)
    list_select_related = ("user",)
    date_hierarchy = "created_at"


class TemplateForm(forms.ModelForm):
    class Meta:
        model = Template
        fields = ["name", "kind", "language", "subject", "html", "text", "styles", "images",
                  "attachments"]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            check_template(
                kind=data.get("kind", ""),
                subject=data.get("subject", ""),
                html=data.get("html", ""),
                text=data.get("text", ""),
                image_names=[image.name for image in data.get("images") or []],
            )
        except TemplateProblem as problem:
            raise ValidationError(
                {f if f in self.fields else NON_FIELD_ERRORS: m for f, m in problem.errors.items()}
            ) from None
        return data


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    form = TemplateForm
    list_display = ("name", "kind", "language", "sample_subject", "updated_at")
    list_filter = ("kind", "language")
    search_fields = ("name", "subject")
    filter_horizontal = ("styles", "images", "attachments")
    readonly_fields = ("preview",)
    actions = ["send_test_to_me"]
    _asset_kinds = {"styles": Asset.Kind.STYLE, "images": Asset.Kind.IMAGE,
                    "attachments": Asset.Kind.ATTACHMENT}  # fmt: skip

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Each picker offers only its own kind of asset (no stylesheet among the images)."""
        if db_field.name in self._asset_kinds:
            kwargs["queryset"] = Asset.objects.filter(kind=self._asset_kinds[db_field.name])
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Subject (sample values)")
    def sample_subject(self, template: Template) -> str:
        try:
            return render_subject(template, preview_context(template.kind))
        except Exception:
            return template.subject

    @admin.display(description="Preview (sample values)")
    def preview(self, template: Template) -> str:
        if template.pk is None:
            return "Save to preview."
        try:
            rendered = templates.preview(template)
        except Exception as error:
            return f"Can't render: {error}"
        return format_html(
            '<p><strong>{}</strong></p><iframe sandbox srcdoc="{}" '
            'style="width:640px;height:480px;border:1px solid #ccc"></iframe>',
            rendered.subject,
            rendered.html,
        )

    @admin.action(description="Send a test of the selected templates to my address")
    def send_test_to_me(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        address = str(getattr(request.user, "email", ""))
        for template in queryset:
            templates.send_test(template=template, address=address, context=None)
        self.message_user(
            request, f"{queryset.count()} test email(s) queued to {address}.", messages.SUCCESS
        )


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Uploaded through the API (checked by their bytes); deletable when no template uses them."""

    allow_delete = True
    list_display = ("name", "kind", "content_type", "size", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)


class LogInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = post_office.Log
    fields = ("date", "status", "exception_type", "message")
    readonly_fields = fields  # date is not editable: a form can't even list it
    extra = 0


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The email queue: every notification's dispatch, its state and its attempts. Dead ones
    (retries exhausted) are resent with the action; expired ones (a code) never are."""

    list_display = ("created_at", "kind", "address", "state", "attempts", "delivery_status")
    list_filter = ("state", "kind", "delivery_status")
    search_fields = ("=address", "=key", "=esp_message_id")
    date_hierarchy = "created_at"
    exclude = ("context",)  # may hold a code until it is sent; the rendered email shows the rest
    actions = ["resend"]

    @admin.action(description="Resend the selected dead emails")
    def resend(self, request: HttpRequest, queryset: QuerySet[Dispatch]) -> None:
        count = services.resend(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} email(s) queued again.", messages.SUCCESS)


admin.site.unregister(post_office.EmailTemplate)  # templates are notifications.Template
admin.site.unregister(post_office.Attachment)  # attachments are notifications.Asset
admin.site.unregister(post_office.Email)
admin.site.unregister(post_office.Log)  # shown, read-only, on each email's page


@admin.register(post_office.Email)
class SentEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each email as rendered and sent (django-post-office's log), with its attempts. Sending
    and resending go through the dispatches, never post_office's own queue."""

    change_form_template = "admin/change_form.html"  # post_office's own links its resend view
    list_display = ("created", "to_address", "subject", "status", "priority", "number_of_retries")
    list_filter = ("status", "priority", "backend_alias")
    search_fields = ("to", "subject")
    date_hierarchy = "created"
    inlines = [LogInline]
    exclude = ("html_message",)
    readonly_fields = ("rendered",)

    @admin.display(description="To")
    def to_address(self, email: post_office.Email) -> str:
        return ", ".join(email.to)

    @admin.display(description="HTML")
    def rendered(self, email: post_office.Email) -> str:
        return format_html(
            '<iframe sandbox srcdoc="{}" style="width:640px;height:480px;border:1px solid #ccc">'
            "</iframe>",
            email.html_message,
        )


from notifications import admin_campaigns, admin_newsletter, admin_tracking  # noqa: E402,F401
