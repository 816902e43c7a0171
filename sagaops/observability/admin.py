"""The console's alert pages: rules operators edit, and the alerts sagaops sent."""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from sagaops.observability.alerts.targets import target_problem
from sagaops.observability.models import AlertRule, AlertSent


class AlertRuleForm(forms.ModelForm):
    """The webhook secret is write-only: never rendered back, kept when left empty on an edit."""

    webhook_url = forms.URLField(required=False, max_length=500, assume_scheme="https")

    webhook_secret = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="Required with a webhook URL. Signs each delivery (X-Sagaops-Signature over X-Sagaops-Timestamp "
        "and the body). Not shown again: leave empty to keep the current secret.",
    )

    class Meta:
        model = AlertRule
        fields = [
            "name",
            "kind",
            "saga_type",
            "threshold",
            "enabled",
            "email_recipients",
            "webhook_url",
            "webhook_secret",
        ]

    def clean_webhook_secret(self) -> str:
        return self.cleaned_data.get("webhook_secret") or self.instance.webhook_secret

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data.get("webhook_url", "")
        problem = target_problem(url) if url else None
        if problem is not None:
            raise forms.ValidationError(problem)
        return url

    def clean(self) -> dict:
        data = super().clean()
        if data.get("webhook_url") and not data.get("webhook_secret"):
            self.add_error("webhook_secret", "A webhook needs a secret: receivers must be able to verify deliveries.")
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
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
