"""The saga list's filters beyond status and type: current step, error type and a started-between range.

Each one narrows with `sagaops.selection.saga_filter`, the function behind the API's saga list
and bulk actions by query, so the console's list and a bulk run over it select the same sagas.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from sagaops.models import SagaStep
from sagaops.selection import FAILED, saga_filter, step_positions

ERROR_TYPE_CHOICES = 40
# The error types offered are read at most once a minute: a DISTINCT over every failed step costs
# tens of milliseconds at a million sagas, on every list page.
ERROR_TYPES_KEY = "sagaops:console:error-types"
ERROR_TYPES_TTL = 60


def error_types() -> list[str]:
    """Exception types of failed steps and compensations (index-only over the partial index of failures)."""
    types = (
        SagaStep.objects.filter(status__in=FAILED)
        .exclude(last_error_type="")
        .values_list("last_error_type", flat=True)
        .distinct()
        .order_by("last_error_type")[:ERROR_TYPE_CHOICES]
    )
    return list(types)


def cached_error_types() -> list[str]:
    return cache.get_or_set(ERROR_TYPES_KEY, error_types, ERROR_TYPES_TTL)


class StepFilter(admin.SimpleListFilter):
    """The step a saga is at now (its current step), by name across every registered type."""

    title = "current step"
    parameter_name = "step"

    def _positions(self) -> dict[str, list[tuple[str, int]]]:
        return step_positions()

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted(self._positions())]

    def queryset(self, request, queryset):
        if not self.value() or request.GET.get(ErrorTypeFilter.parameter_name):
            return queryset  # with an error type, the step is the one that failed (ErrorTypeFilter)
        return saga_filter(queryset, {"step": self.value()})


class ErrorTypeFilter(admin.SimpleListFilter):
    """Sagas with a failed step (or failed compensation) of this exception type."""

    title = "error type"
    parameter_name = "error_type"

    def lookups(self, request, model_admin):
        return [(t, t.rsplit(".", 1)[-1]) for t in cached_error_types()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return saga_filter(queryset, {"error_type": self.value(), "step": request.GET.get(StepFilter.parameter_name)})


def parse_when(value: str, *, end: bool = False) -> datetime:
    """A date (2026-01-31) or a date-time (2026-01-31T14:05) in the console's time zone."""
    day = parse_date(value) if len(value) == 10 else None  # a bare date covers the whole day
    if day is not None:
        at = datetime.combine(day, datetime.max.time() if end else datetime.min.time())
    else:
        at = parse_datetime(value)
        if at is None:
            raise ValueError(value)
    return timezone.make_aware(at) if timezone.is_naive(at) else at


class StartedRangeFilter(admin.ListFilter):
    """Started between two dates or date-times (either end may be open)."""

    title = "started between"
    template = "admin/sagaops/saga/range_filter.html"
    params = ("started_from", "started_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in self.params:
            if name in params:
                value = params.pop(name)
                value = value[-1] if isinstance(value, list) else value
                if value:
                    self.values[name] = value
        self.request = request

    def has_output(self) -> bool:
        return True

    def expected_parameters(self):
        return list(self.params)

    def choices(self, changelist):
        # The template renders a small GET form; it keeps the other filters as hidden inputs.
        others = [(k, v) for k, v in changelist.get_filters_params().items() if k not in self.params]
        yield {"values": self.values, "others": others, "query": changelist.query}

    def queryset(self, request, queryset):
        try:
            return saga_filter(queryset, started_range(self.values))
        except ValueError as error:
            raise IncorrectLookupParameters(f"not a date: {error}") from error


def started_range(values: dict[str, str]) -> dict[str, datetime]:
    """`started_from` / `started_to` (both ends included) as the filter's created_after / created_before."""
    bounds = {}
    if values.get("started_from"):
        bounds["created_after"] = parse_when(values["started_from"])
    if values.get("started_to"):
        bounds["created_before"] = parse_when(values["started_to"], end=True) + timedelta(microseconds=1)
    return bounds
