"""The saga list's filters beyond status and type: current step, error type and a started-between range.

Each one narrows through an index: the step through (type, current_step) pairs taken from the
registry, the error type through the partial index on failed steps, the range through created_at.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from sagaops.definitions import registered_definitions
from sagaops.models import SagaStep
from sagaops.states import StepStatus

FAILED = (StepStatus.FAILED, StepStatus.COMPENSATION_FAILED)
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
        return queryset.filter(at_step_q(self.value(), self._positions()))


class ErrorTypeFilter(admin.SimpleListFilter):
    """Sagas with a failed step (or failed compensation) of this exception type."""

    title = "error type"
    parameter_name = "error_type"

    def lookups(self, request, model_admin):
        return [(t, t.rsplit(".", 1)[-1]) for t in cached_error_types()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(failed_with_q(self.value(), step=request.GET.get(StepFilter.parameter_name)))


def step_positions() -> dict[str, list[tuple[str, int]]]:
    """{step name: [(saga type, index)]} over every registered definition."""
    positions: dict[str, list[tuple[str, int]]] = {}
    for definition in registered_definitions():
        name = definition.name
        for index, step in enumerate(definition.steps):
            if (name, index) not in positions.setdefault(step.name, []):
                positions[step.name].append((name, index))
    return positions


def at_step_q(step: str, positions: dict[str, list[tuple[str, int]]] | None = None) -> Q:
    """Sagas whose current step is named `step`."""
    q = Q(pk__in=[])
    for saga_type, index in (positions or step_positions()).get(step, []):
        q |= Q(type=saga_type, current_step=index)
    return q


def failed_with_q(error_type: str, *, step: str | None = None) -> Q:
    """Sagas with a failed step (or failed compensation) of this exception type, at `step` if given."""
    failed = SagaStep.objects.filter(status__in=FAILED, last_error_type=error_type)
    if step:
        # With a step as well, the failures at that step: narrowing the failed steps first keeps
        # the join small.
        failed = failed.filter(name=step)
    return Q(pk__in=failed.values("saga_id"))


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
            if "started_from" in self.values:
                queryset = queryset.filter(created_at__gte=parse_when(self.values["started_from"]))
            if "started_to" in self.values:
                queryset = queryset.filter(created_at__lte=parse_when(self.values["started_to"], end=True))
        except ValueError as error:
            raise IncorrectLookupParameters(f"not a date: {error}") from error
        return queryset
