"""Which sagas a filter selects: one function behind the API's saga list, the console's list
filters and bulk actions by query, and one validation of the filter for all of them.

A filter is a dict of these keys (every one optional; all given ones must match):
status, type, stuck, correlation_id, q (the search box), step, error_type, created_after,
created_before.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework import serializers

from sagaops.console.search import search_q
from sagaops.console.selectors import stuck_q
from sagaops.definitions import registered_definitions
from sagaops.models import Saga, SagaStep
from sagaops.search_keys import keys_contain
from sagaops.states import SagaStatus, StepStatus

FAILED = (StepStatus.FAILED, StepStatus.COMPENSATION_FAILED)


class InvalidFilter(ValueError):
    """A filter that selects nothing meaningful: `errors` is {field: [message, ...]}."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in errors.items()))


class SagaFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=SagaStatus.choices, required=False)
    type = serializers.CharField(required=False, max_length=100)
    stuck = serializers.BooleanField(required=False, default=False, help_text="stuck, or no progress for too long")
    correlation_id = serializers.CharField(required=False, max_length=200)
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="saga id or its 8-character prefix, correlation id, idempotency key, order id, or a "
        "business key the saga type declares (search_keys)",
    )
    step = serializers.CharField(
        required=False, max_length=100, help_text="the current step (with error_type: the step that failed)"
    )
    error_type = serializers.CharField(required=False, max_length=200, help_text="e.g. payments.exceptions.Declined")
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict) -> dict:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and after >= before:
            raise serializers.ValidationError({"created_before": ["must be later than created_after"]})
        for name, value in attrs.items():
            if isinstance(value, str) and "\x00" in value:
                raise serializers.ValidationError({name: ["must not contain NUL"]})
        return attrs


FILTER_FIELDS = tuple(SagaFilterInput().fields)


def filter_parse(data: Any, *, strict: bool = True) -> dict[str, Any]:
    """The validated filter, or InvalidFilter naming each bad field (an unknown key too, when strict)."""
    if not isinstance(data, dict):
        raise InvalidFilter({"filter": ["must be an object of field: value"]})
    unknown = sorted(set(data) - set(FILTER_FIELDS)) if strict else []
    if unknown:
        known = ", ".join(FILTER_FIELDS)
        raise InvalidFilter({name: [f"not a saga filter (the filters are: {known})"] for name in unknown})
    serializer = SagaFilterInput(data={k: v for k, v in data.items() if k in FILTER_FIELDS})
    if not serializer.is_valid():
        raise InvalidFilter({k: [str(m) for m in v] for k, v in serializer.errors.items()})
    return {k: v for k, v in serializer.validated_data.items() if v not in (None, "", False)}


def saga_filter(sagas: QuerySet[Saga], filters: dict[str, Any]) -> QuerySet[Saga]:
    """`sagas` narrowed by a validated filter (see filter_parse), each key through an index."""
    if filters.get("status"):
        sagas = sagas.filter(status=filters["status"])
    if filters.get("type"):
        sagas = sagas.filter(type=filters["type"])
    if filters.get("correlation_id"):
        sagas = sagas.filter(keys_contain(correlation_id=filters["correlation_id"]))
    if filters.get("stuck"):
        sagas = sagas.filter(stuck_q())
    if filters.get("q"):
        q = search_q(filters["q"])
        sagas = sagas.filter(q) if q is not None else sagas
    if filters.get("error_type"):
        sagas = sagas.filter(failed_with_q(filters["error_type"], step=filters.get("step")))
    elif filters.get("step"):
        sagas = sagas.filter(at_step_q(filters["step"]))
    if filters.get("created_after"):
        sagas = sagas.filter(created_at__gte=filters["created_after"])
    if filters.get("created_before"):
        sagas = sagas.filter(created_at__lt=filters["created_before"])
    return sagas


def step_positions() -> dict[str, list[tuple[str, int]]]:
    """{step name: [(saga type, index)]} over every registered definition."""
    positions: dict[str, list[tuple[str, int]]] = {}
    for definition in registered_definitions():
        name = definition.name
        for index, step in enumerate(definition.steps):
            if (name, index) not in positions.setdefault(step.name, []):
                positions[step.name].append((name, index))
    return positions


def at_step_q(step: str) -> Q:
    """Sagas whose current step is named `step`: (type, current_step) pairs from the registry."""
    q = Q(pk__in=[])
    for saga_type, index in step_positions().get(step, []):
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


def filter_label(filters: dict[str, Any]) -> str:
    """`status=stuck type=order.checkout` (for the operator: what a bulk action selected)."""
    parts = []
    for name in FILTER_FIELDS:
        if name in filters:
            value = filters[name]
            parts.append(f"{name}={value.isoformat() if hasattr(value, 'isoformat') else value}")
    return " ".join(parts) or "every saga"


def filter_storable(filters: dict[str, Any]) -> dict[str, Any]:
    """The filter as JSON (dates as ISO strings): filter_parse reads it back as it was."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in filters.items()}
