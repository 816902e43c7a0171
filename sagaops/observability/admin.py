"""The console's alert pages: rules operators edit, and the alerts sagaops sent."""

from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from sagaops.observability.models import AlertRule, AlertSent


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "saga_type", "threshold", "email_recipients", "webhook_url", "enabled", "firing"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "email_recipients", "webhook_url"]
    actions = ["enable", "disable"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "kind", "saga_type", "threshold", "enabled"]}),
        ("Email", {"fields": ["email_recipients", "to_admins"]}),
        ("Webhook", {"fields": ["webhook_url", "webhook_secret"]}),
    ]

    @admin.display(boolean=True, description="firing")
    def firing(self, rule: AlertRule) -> bool | None:
        return rule.firing_since is not None if rule.kind in AlertRule.THRESHOLD else None

    @admin.action(description="Enable the selected rules")
    def enable(self, request, queryset):
        self.message_user(request, f"{queryset.update(enabled=True)} rule(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable the selected rules")
    def disable(self, request, queryset):
        self.message_user(request, f"{queryset.update(enabled=False)} rule(s) disabled.", messages.SUCCESS)


@admin.register(AlertSent)
class AlertSentAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "rule", "channel", "status", "attempts", "saga_link", "sent_at", "error"]
    list_filter = ["status", "channel", "kind", "rule"]
    list_select_related = ["rule"]
    search_fields = ["dedupe_key", "saga__id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AlertSent._meta.fields]

    @admin.display(description="saga")
    def saga_link(self, alert: AlertSent):
        if alert.saga_id is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:sagaops_saga_change", args=[alert.saga_id]), str(alert.saga_id)[:8]
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
