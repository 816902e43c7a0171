"""The audit trail: every operator action on any saga (who, what, why, when) and what came of it.

Operator actions are the saga timeline's events with actor type operator, read newest first through
the partial index `saga_event_operator`. An action's outcome is the first settling event of the same
saga after it (completed, compensated, stuck again, ...), or "pending" while the saga is still moving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sagaops.models import Saga, SagaEvent

PAGE = 100
# Events that settle what an operator's action led to.
OUTCOMES = {
    "saga_completed": "completed",
    "saga_compensated": "compensated",
    "saga_stuck": "stuck again",
    "saga_resolved": "resolved",
}
ACTIVE = {"pending", "running", "compensating"}


@dataclass
class AuditRow:
    event: SagaEvent
    saga: Saga | None
    outcome: str
    outcome_at: datetime | None

    @property
    def action(self) -> str:
        return self.event.kind.removeprefix("operator_").replace("_", " ")


@dataclass(frozen=True)
class AuditQuery:
    operator: str = ""
    kind: str = ""
    since: datetime | None = None
    until: datetime | None = None


def operator_events(query: AuditQuery):
    events = SagaEvent.objects.filter(actor_type=SagaEvent.Actor.OPERATOR)
    if query.operator:
        events = events.filter(actor=query.operator)
    if query.kind:
        events = events.filter(kind=query.kind)
    if query.since:
        events = events.filter(at__gte=query.since)
    if query.until:
        events = events.filter(at__lte=query.until)
    return events.order_by("-id")


def audit_trail(query: AuditQuery, *, limit: int = PAGE) -> list[AuditRow]:
    events = list(operator_events(query)[:limit])
    saga_ids = {e.saga_id for e in events}
    sagas = {s.pk: s for s in Saga.objects.filter(pk__in=saga_ids).defer("context")}
    later: dict = {}
    if events:
        after = SagaEvent.objects.filter(saga_id__in=saga_ids, kind__in=OUTCOMES, id__gt=min(e.id for e in events))
        for e in after.order_by("id").only("id", "saga_id", "kind", "at"):
            later.setdefault(e.saga_id, []).append(e)
    return [_row(e, sagas.get(e.saga_id), later.get(e.saga_id, [])) for e in events]


def _row(event: SagaEvent, saga: Saga | None, later: list[SagaEvent]) -> AuditRow:
    settled = next((e for e in later if e.id > event.id), None)
    if event.kind == "operator_resolve":
        return AuditRow(event, saga, "resolved", event.at)
    if settled is not None:
        return AuditRow(event, saga, OUTCOMES[settled.kind], settled.at)
    if saga is not None and saga.status in ACTIVE:
        return AuditRow(event, saga, "pending", None)
    return AuditRow(event, saga, saga.status if saga else "saga deleted", None)


def operators() -> list[str]:
    names = SagaEvent.objects.filter(actor_type=SagaEvent.Actor.OPERATOR).values_list("actor", flat=True)
    return list(names.distinct().order_by("actor")[:200])


ACTION_KINDS = (
    "operator_retry",
    "operator_compensate",
    "operator_retry_compensation",
    "operator_skip_step",
    "operator_compensation_done",
    "operator_resolve",
)


def action_kinds() -> list[tuple[str, str]]:
    return [(k, k.removeprefix("operator_").replace("_", " ")) for k in ACTION_KINDS]
