"""The console for choreography: supervisor rules (inline-edited, versioned, with a dry run), how
each failure report was handled, and the dead letters with their replay action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from sagaops.choreography import bus
from sagaops.choreography.models import (
    CompensationRequest,
    CompensationRule,
    CompensationRuleVersion,
    DeadLetter,
    OutboxEvent,
    ReportHandling,
    RuleCompensation,
)
from sagaops.choreography.services.deadletters import ReplayRefused, dead_letter_replay
from sagaops.choreography.services.rules import rule_preview, rule_version_record


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RuleCompensationForm(forms.ModelForm):
    command = forms.ChoiceField(choices=())

    class Meta:
        model = RuleCompensation
        fields = ["position", "command"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = bus.commands()
        current = self.instance.command if self.instance.pk else None
        choices = [(c, c) for c in known] + (
            [(current, f"{current} (unknown)")] if current and current not in known else []
        )
        self.fields["command"].choices = [("", "---------"), *choices]


class RuleCompensationInline(admin.TabularInline):
    model = RuleCompensation
    form = RuleCompensationForm
    extra = 1
    ordering = ["position", "id"]


def _saga_link(saga_id) -> str:
    if not saga_id:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse("admin:sagaops_saga_change", args=[saga_id]), saga_id)


@admin.register(CompensationRule)
class CompensationRuleAdmin(admin.ModelAdmin):
    list_display = ["service", "code", "action", "requests", "version", "updated_at"]
    list_filter = ["service", "action"]
    search_fields = ["service", "code"]
    fields = ["service", "code", "action", "description", "version", "preview", "history"]
    readonly_fields = ["version", "preview", "history"]
    inlines = [RuleCompensationInline]
    actions = ["dry_run"]

    @admin.display(description="requests")
    def requests(self, rule: CompensationRule) -> str:
        if rule.action == CompensationRule.Action.RETRY_STEP:
            return "retry the failed step only"
        return ", ".join(c.command for c in rule.compensations.all()) or "nothing"

    @admin.display(description="dry run")
    def preview(self, rule: CompensationRule) -> str:
        return rule_preview(service=rule.service, code=rule.code) if rule.pk else "-"

    @admin.display(description="versions")
    def history(self, rule: CompensationRule) -> str:
        versions = rule.versions.order_by("-version")[:20] if rule.pk else []
        rows = (
            (v.version, v.created_at.strftime("%Y-%m-%d %H:%M:%S"), v.created_by or "-", v.summary) for v in versions
        )
        return format_html_join("", "<div>v{} at {} by {}: {}</div>", rows) or "-"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("compensations")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        version = rule_version_record(rule=form.instance, user=request.user)
        self.message_user(request, f"{form.instance} is at version {version.version}: {version.summary}")

    @admin.action(description="Dry run: what would a report request?")
    def dry_run(self, request, queryset):
        for rule in queryset:
            self.message_user(request, rule_preview(service=rule.service, code=rule.code))


@admin.register(CompensationRuleVersion)
class CompensationRuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["rule", "version", "summary", "created_at", "created_by"]
    list_filter = ["rule__service"]
    list_select_related = ["rule", "created_by"]


class CompensationRequestInline(admin.TabularInline):
    model = CompensationRequest
    fields = ["position", "command", "status", "attempts", "requested_at", "acked_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReportHandling)
class ReportHandlingAdmin(ReadOnlyAdmin):
    list_display = ["report", "status", "rule_version", "requested", "saga", "reason", "created_at"]
    list_filter = ["status", "report__service"]
    list_select_related = ["report", "rule_version__rule"]
    search_fields = ["report__correlation_id", "report__code", "saga_id"]
    inlines = [CompensationRequestInline]
    readonly_fields = ["report", "rule_version", "status", "reason", "saga", "subject", "created_at", "finished_at"]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("requests")

    @admin.display(description="requested")
    def requested(self, handling: ReportHandling) -> str:
        return ", ".join(f"{r.command} ({r.status})" for r in handling.requests.all()) or "-"

    @admin.display(description="saga")
    def saga(self, handling: ReportHandling) -> str:
        return _saga_link(handling.saga_id)


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ["dead_at", "group", "event_type", "correlation_id", "deliveries", "error", "replayed_at"]
    list_filter = ["group", "event_type", ("replayed_at", admin.EmptyFieldListFilter)]
    search_fields = ["correlation_id", "event_id", "message_id"]
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay: publish the message again", permissions=["replay"])
    def replay(self, request, queryset):
        for letter in queryset:
            try:
                message_id = dead_letter_replay(dead_letter_id=letter.pk, user=request.user)
            except ReplayRefused as error:
                self.message_user(request, str(error), messages.WARNING)
                continue
            self.message_user(request, f"{letter} replayed as {message_id} on {letter.stream}")

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("choreography.replay_deadletter")


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event_type", "correlation_id", "stream", "published_at", "message_id"]
    list_filter = ["stream", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["correlation_id", "event_id"]
