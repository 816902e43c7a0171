"""The operations console on the Django admin.

SagaAdmin is the saga list (fast on millions of rows: no full COUNT, an index behind each
filter) and mounts the console's pages (stuck, failure groups, dashboard, bulk actions, the
confirmation of each repair) under /admin/sagaops/saga/ through `get_urls`.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.core.paginator import Paginator
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from sagaops.console import bulk, data_repairs, holds, views
from sagaops.console.actions import ACTIONS, BULK_ACTIONS
from sagaops.console.filters import ErrorTypeFilter, StartedRangeFilter, StepFilter
from sagaops.console.selectors import definition_or_none, stuck_q
from sagaops.definitions import registered_types
from sagaops.models import Saga
from sagaops.selection import saga_filter
from sagaops.templatetags.sagaops_console import ago


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (a LIMITed subquery), never the whole table."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Unordered: PostgreSQL may stop at CAP + 1 matches instead of sorting every one first.
        return self.object_list.order_by()[: self.CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.CAP


class TypeFilter(admin.SimpleListFilter):
    """Saga types from the registry (a DISTINCT over millions of rows would be slow)."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(t, t) for t in registered_types()]

    def queryset(self, request, queryset):
        return saga_filter(queryset, {"type": self.value()}) if self.value() else queryset


class StuckFilter(admin.SimpleListFilter):
    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "Stuck or no progress"), ("no", "Not stuck")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return saga_filter(queryset, {"stuck": True})
        if self.value() == "no":
            return queryset.exclude(stuck_q())
        return queryset


class AgeFilter(admin.SimpleListFilter):
    title = "started"
    parameter_name = "age"
    WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}

    def lookups(self, request, model_admin):
        return [
            ("1h", "In the last hour"),
            ("24h", "In the last 24 hours"),
            ("7d", "In the last 7 days"),
            ("old", "Older than 7 days"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() in self.WINDOWS:
            return queryset.filter(created_at__gte=now - self.WINDOWS[self.value()])
        if self.value() == "old":
            return queryset.filter(created_at__lt=now - self.WINDOWS["7d"])
        return queryset


class ErrorFilter(admin.SimpleListFilter):
    title = "has error"
    parameter_name = "error"

    def lookups(self, request, model_admin):
        return [("yes", "With an error"), ("no", "Without")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(last_error="")
        if self.value() == "no":
            return queryset.filter(last_error="")
        return queryset


@admin.register(Saga)
class SagaAdmin(admin.ModelAdmin):
    list_display = ("short_id", "type", "badge", "step_name", "created", "updated", "error")
    list_display_links = ("short_id",)
    list_filter = (
        "status",
        TypeFilter,
        StepFilter,
        StuckFilter,
        AgeFilter,
        StartedRangeFilter,
        ErrorFilter,
        ErrorTypeFilter,
    )
    search_fields = ("=id",)  # the real search is get_search_results
    search_help_text = (
        "Saga id or its first 8 characters, correlation id, idempotency key, order id, customer "
        "(and any business key a saga type declares). Exact matches."
    )
    ordering = ("-created_at",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-filter counts would scan millions of rows
    paginator = CappedCountPaginator
    list_per_page = 50
    actions = ("bulk_retry", "bulk_compensate", "bulk_retry_compensation", "bulk_resolve")

    # --- permissions: the engine's custom ones, one per action ---

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return ACTIONS["retry"].allowed(request.user)

    def has_compensate_permission(self, request):
        return ACTIONS["compensate"].allowed(request.user)

    def has_retry_compensation_permission(self, request):
        return ACTIONS["retry_compensation"].allowed(request.user)

    def has_resolve_permission(self, request):
        return ACTIONS["resolve"].allowed(request.user)

    # --- the list ---

    @admin.display(description="saga", ordering="id")
    def short_id(self, obj: Saga) -> str:
        return str(obj.pk)[:8]

    @admin.display(description="status", ordering="status")
    def badge(self, obj: Saga) -> str:
        return format_html('<span class="sagaops-badge status-{}">{}</span>', obj.status, obj.status)

    @admin.display(description="step")
    def step_name(self, obj: Saga) -> str:
        definition = definition_or_none(obj)
        if definition is None or obj.current_step >= len(definition.steps):
            return str(obj.current_step)
        return definition.steps[obj.current_step].name

    @admin.display(description="started", ordering="created_at")
    def created(self, obj: Saga) -> str:
        return format_html('<span title="{}">{}</span>', obj.created_at.isoformat(), f"{obj.created_at:%m-%d %H:%M:%S}")

    @admin.display(description="last change")
    def updated(self, obj: Saga) -> str:
        return format_html('<span title="{}">{}</span>', obj.updated_at.isoformat(), ago(obj.updated_at))

    @admin.display(description="error / attention")
    def error(self, obj: Saga) -> str:
        text = obj.attention_reason or obj.last_error
        if not text:
            return ""
        return format_html('<span class="sagaops-error" title="{}">{}</span>', text, text[:90])

    def get_search_results(self, request, queryset, search_term):
        """Exact matches, each backed by an index (see sagaops.console.search)."""
        return saga_filter(queryset, {"q": search_term}), False

    # --- bulk actions from the list: preview, reason, then a Celery task ---

    @admin.action(description="Retry forward (preview, then confirm)", permissions=["retry"])
    def bulk_retry(self, request, queryset):
        return bulk.bulk_from_list(request, self, queryset, "retry")

    @admin.action(description="Force compensation (preview, then confirm)", permissions=["compensate"])
    def bulk_compensate(self, request, queryset):
        return bulk.bulk_from_list(request, self, queryset, "compensate")

    @admin.action(description="Retry compensation (preview, then confirm)", permissions=["retry_compensation"])
    def bulk_retry_compensation(self, request, queryset):
        return bulk.bulk_from_list(request, self, queryset, "retry_compensation")

    @admin.action(description="Resolve by hand (preview, then confirm)", permissions=["resolve"])
    def bulk_resolve(self, request, queryset):
        return bulk.bulk_from_list(request, self, queryset, "resolve")

    # --- the console's pages ---

    def changelist_view(self, request, extra_context=None):
        can_bulk = any(ACTIONS[name].allowed(request.user) for name in BULK_ACTIONS)
        return super().changelist_view(request, extra_context={**(extra_context or {}), "can_bulk": can_bulk})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return views.saga_detail(request, self, object_id)

    def get_urls(self):
        def wrap(view):
            def inner(request, *args, **kwargs):
                return view(request, self, *args, **kwargs)

            return self.admin_site.admin_view(inner)

        name = "sagaops_saga_"
        return [
            path("stuck/", wrap(views.stuck), name=name + "stuck"),
            path("groups/", wrap(views.failure_groups), name=name + "groups"),
            path("groups/preview/", wrap(bulk.group_preview), name=name + "group_preview"),
            path("dashboard/", wrap(views.dashboard), name=name + "dashboard"),
            path("holds/", wrap(holds.holds_page), name=name + "holds"),
            path("holds/<int:hold_id>/<str:act>/", wrap(holds.hold_act), name=name + "hold_act"),
            path("bulk/", wrap(bulk.bulk_list), name=name + "bulk_list"),
            path("bulk/new/", wrap(bulk.bulk_new), name=name + "bulk_new"),
            path("bulk/query/", wrap(bulk.bulk_query), name=name + "bulk_query"),
            path("bulk/<uuid:bulk_id>/", wrap(bulk.bulk_detail), name=name + "bulk"),
            path("bulk/<uuid:bulk_id>/<str:act>/", wrap(bulk.bulk_act), name=name + "bulk_act"),
            path("audit/", wrap(views.audit), name=name + "audit"),
            path("views/", wrap(views.saved_view_create), name=name + "saved_views"),
            path("views/<int:view_id>/delete/", wrap(views.saved_view_delete), name=name + "saved_view_delete"),
            path("<uuid:object_id>/live/", wrap(views.saga_live), name=name + "live"),
            path("<uuid:object_id>/act/<str:action>/", wrap(views.saga_action), name=name + "action"),
            path("<uuid:object_id>/data/", wrap(data_repairs.data_repairs_page), name=name + "data_repairs"),
            *super().get_urls(),
        ]

    def get_view_on_site_url(self, obj=None):
        return None
