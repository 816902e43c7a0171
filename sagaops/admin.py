"""Plain admin pages for sagas (the operations console builds on these)."""

from django.contrib import admin

from sagaops.models import Saga, SagaEvent, SagaStep


class SagaStepInline(admin.TabularInline):
    model = SagaStep
    extra = 0
    can_delete = False
    fields = (
        "index",
        "name",
        "status",
        "attempts",
        "compensation_attempts",
        "lease_expires_at",
        "next_attempt_at",
        "last_error",
    )
    readonly_fields = fields


class SagaEventInline(admin.TabularInline):
    model = SagaEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "step", "actor_type", "actor", "reason", "detail")
    readonly_fields = fields


@admin.register(Saga)
class SagaAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "status", "current_step", "created_at", "updated_at", "attention_reason")
    list_filter = ("status", "type")
    search_fields = ("=id", "=correlation_id", "=idempotency_key")
    readonly_fields = [f.name for f in Saga._meta.fields]
    inlines = [SagaStepInline, SagaEventInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
