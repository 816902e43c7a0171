"""The tracker: follows every event by correlation id into the Saga, SagaStep and SagaEvent rows
of choreographed sagas, so they show in the console with the same timeline as orchestrated ones.

It is the only writer of a choreographed saga's state besides the overdue check and the console's
repairs, and every status change goes through `transition` (the version fence).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from sagaops.choreography import bus
from sagaops.choreography.bus import ANY, COMMAND_DONE, COMMAND_FAILED, BusEvent, handles
from sagaops.choreography.flows import Flow, flow_for, flow_types, flows
from sagaops.conf import conf
from sagaops.exceptions import ConcurrentUpdate
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.rules import AttentionCode, Event, EventKind
from sagaops.search_keys import keys_contain
from sagaops.services import saga_start
from sagaops.services.transitions import transition
from sagaops.states import FINISHED_SAGA_STATUSES, SagaStatus, StepStatus

TRACKER = "tracker"
# Published by the supervisor (services/supervisor.py).
SUPERVISOR_PLANNED = "SupervisorPlanned"
SUPERVISOR_STUCK = "SupervisorStuck"

UNDOABLE = (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.COMPENSATING, StepStatus.COMPENSATION_FAILED)
NOT_DONE = (StepStatus.PENDING, StepStatus.RUNNING, StepStatus.WAITING)


@handles(ANY, group=TRACKER)
def track(event: BusEvent) -> None:
    saga = saga_for_event(event)
    if saga is not None:
        Tracking(saga, event).apply()


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def saga_for_event(event: BusEvent) -> Saga | None:
    """The choreographed saga an event belongs to: by the saga id it carries, else by correlation id.

    A flow's first event with no saga yet starts one (a service that began the flow on its own).
    """
    sagas = Saga.objects.filter(type__in=flow_types())
    saga_id = _uuid(event.payload.get("saga_id") or event.subject.get("saga_id"))
    if saga_id is not None:
        saga = sagas.filter(pk=saga_id).first()
    elif event.correlation_id:
        saga = sagas.filter(keys_contain(correlation_id=event.correlation_id)).order_by("-created_at").first()
    else:
        return None
    if saga is None and saga_id is None and event.correlation_id:
        flow = next((f for f in flows() if f.first.event == event.type), None)
        if flow is not None:
            saga, _ = saga_start(
                saga_type=flow.name,
                payload=event.payload,
                idempotency_key=f"choreography:{flow.name}:{event.correlation_id}",
                correlation_id=event.correlation_id,
            )
    return saga


def pending_commands(saga: Saga) -> dict[str, str]:
    """{request id: command} the supervisor requested for this saga and nobody acknowledged yet."""
    return dict(saga.context.get("choreography", {}).get("pending", {}))


def _with_pending(saga: Saga, pending: dict[str, str]) -> dict:
    return {**saga.context, "choreography": {**saga.context.get("choreography", {}), "pending": pending}}


class Tracking:
    def __init__(self, saga: Saga, event: BusEvent):
        self.saga = saga
        self.event = event
        self.flow: Flow = flow_for(saga.type)
        self.steps = {s.name: s for s in SagaStep.objects.filter(saga=saga).order_by("index")}

    def ev(self, kind: str, step: str = "", **detail: Any) -> Event:
        detail = {"event": self.event.type, "event_id": self.event.event_id, **detail}
        return Event(kind, step, detail, SagaEvent.Actor.SERVICE, self.event.source[:150])

    def write(self, *, saga_changes=None, step=None, step_changes=None, events=()) -> None:
        transition(self.saga, saga_changes=saga_changes, step=step, step_changes=step_changes, events=list(events))

    def apply(self) -> None:
        kind = self.event.type
        expect = self.flow.expect_for_event(kind)
        if expect is not None:
            self.forward(self.steps[expect.step])
        elif kind == SUPERVISOR_PLANNED:
            self.planned(self.event.payload)
        elif kind == SUPERVISOR_STUCK:
            self.stuck(self.event.payload)
        elif kind == COMMAND_DONE:
            self.command_done(self.event.payload)
        elif kind == COMMAND_FAILED:
            p = self.event.payload
            step = self._step_of(p.get("command", ""))
            self.write(events=[self.ev(EventKind.COMPENSATION_ATTEMPT_FAILED, step.name if step else "", **_brief(p))])
        elif kind in bus.commands():
            self.command_requested(kind, self.event.payload)
        else:
            self.write(events=[self.ev(EventKind.EVENT_RECEIVED)])

    # --- forward ---

    def forward(self, step: SagaStep) -> None:
        if step.status not in NOT_DONE:
            self.write(events=[self.ev(EventKind.EVENT_RECEIVED, step.name, duplicate=True)])
            return
        if self.saga.status == SagaStatus.STUCK:
            self.write(
                saga_changes={"status": SagaStatus.RUNNING, "attention_reason": "", "attention_code": ""},
                events=[self.ev(EventKind.RESUMED)],
            )
        now = timezone.now()
        saga_changes: dict[str, Any] = {"current_step": step.index, "wake_at": None}
        events = [self.ev(EventKind.STEP_SUCCEEDED, step.name)]
        if self.saga.status == SagaStatus.PENDING:
            saga_changes["status"] = SagaStatus.RUNNING
        others_done = all(s.status == StepStatus.SUCCEEDED for s in self.steps.values() if s.pk != step.pk)
        if others_done and self.saga.status in (SagaStatus.RUNNING, SagaStatus.PENDING):
            if self.saga.status == SagaStatus.PENDING:  # pending -> completed is not a move
                self.write(saga_changes={"status": SagaStatus.RUNNING})
            saga_changes.update(status=SagaStatus.COMPLETED, finished_at=now)
            events.append(self.ev(EventKind.SAGA_COMPLETED))
        step_changes = {"status": StepStatus.SUCCEEDED, "started_at": step.started_at or now, "finished_at": now}
        step_changes["result"] = {"event": self.event.type, "event_id": self.event.event_id}
        self.write(saga_changes=saga_changes, step=step, step_changes=step_changes, events=events)

    # --- the supervisor's plan and its commands ---

    def planned(self, p: dict) -> None:
        step = self.steps.get(p.get("step") or "")
        reported = self.ev(EventKind.FAILURE_REPORTED, step.name if step else "", **_brief(p))
        if p.get("action") != "compensate":
            self.write(events=[reported, self.ev(EventKind.RETRY_REQUESTED, step.name if step else "", **_brief(p))])
            return
        pending = {**pending_commands(self.saga), **{str(r["request_id"]): r["command"] for r in p["requests"]}}
        saga_changes: dict[str, Any] = {"context": _with_pending(self.saga, pending), "wake_at": None}
        events = [reported]
        if self.saga.status in (SagaStatus.PENDING, SagaStatus.RUNNING, SagaStatus.STUCK):
            reason = f"{p.get('service')} reported {p.get('code')}"
            saga_changes.update(
                status=SagaStatus.COMPENSATING, last_error=reason[:2000], attention_reason="", attention_code=""
            )
            events.append(self.ev(EventKind.COMPENSATION_STARTED, reason=reason))
        failed = step is not None and step.status in NOT_DONE
        step_changes = {"status": StepStatus.FAILED, "finished_at": timezone.now()} if failed else {}
        if failed:
            step_changes["last_error"] = f"{p.get('service')}: {p.get('code')}"
            events.insert(0, self.ev(EventKind.STEP_FAILED, step.name, **_brief(p)))
        self.write(saga_changes=saga_changes, step=step if failed else None, step_changes=step_changes, events=events)
        if not pending and self.saga.status == SagaStatus.COMPENSATING:
            self._compensated()

    def _step_of(self, command: str) -> SagaStep | None:
        expect = self.flow.expect_for_command(command)
        return self.steps.get(expect.step) if expect else None

    def command_requested(self, command: str, p: dict) -> None:
        step = self._step_of(command)
        undoing = step is not None and command in self.flow.step(step.name).undo
        events = [
            self.ev(
                EventKind.COMPENSATION_REQUESTED if undoing else EventKind.RETRY_REQUESTED, step.name if step else ""
            )
        ]
        events[0].detail.update(command=command, attempt=p.get("attempt"), request_id=p.get("request_id"))
        if undoing and step.status in (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.COMPENSATION_FAILED):
            step_changes = {"status": StepStatus.COMPENSATING}
            step_changes["compensation_attempts"] = step.compensation_attempts + 1
            self.write(step=step, step_changes=step_changes, events=events)
        else:
            self.write(events=events)

    def command_done(self, p: dict) -> None:
        command = p.get("command", "")
        pending = pending_commands(self.saga)
        pending.pop(str(p.get("request_id")), None)
        step = self._step_of(command)
        undoing = step is not None and command in self.flow.step(step.name).undo
        still_undoing = undoing and any(c in self.flow.step(step.name).undo for c in pending.values())
        saga_changes = {"context": _with_pending(self.saga, pending)}
        if undoing and not still_undoing and step.status in UNDOABLE:
            now = timezone.now()
            step_changes = {"status": StepStatus.COMPENSATED, "finished_at": now}
            events = [self.ev(EventKind.STEP_COMPENSATED, step.name, command=command)]
            self.write(saga_changes=saga_changes, step=step, step_changes=step_changes, events=events)
        else:
            events = [self.ev(EventKind.COMMAND_DONE, step.name if step else "", command=command)]
            self.write(saga_changes=saga_changes, events=events)
        if not pending and self.saga.status == SagaStatus.COMPENSATING:
            self._compensated()

    def _compensated(self) -> None:
        changes = {"status": SagaStatus.COMPENSATED, "finished_at": timezone.now(), "wake_at": None}
        self.write(saga_changes=changes, events=[self.ev(EventKind.SAGA_COMPENSATED)])

    def stuck(self, p: dict) -> None:
        reason = p.get("reason", "the supervisor gave up")
        step = self._step_of(p.get("command") or "") or self.steps.get(p.get("step") or "")
        events = (
            [self.ev(EventKind.FAILURE_REPORTED, step.name if step else "", **_brief(p))] if p.get("no_rule") else []
        )
        if self.saga.status in FINISHED_SAGA_STATUSES:
            self.write(events=[*events, self.ev(EventKind.SUPERVISOR_STUCK, reason=reason)])
            return
        if self.saga.status == SagaStatus.PENDING:
            self.write(saga_changes={"status": SagaStatus.RUNNING})
        failed_comp = step is not None and step.status == StepStatus.COMPENSATING
        step_changes = {"status": StepStatus.COMPENSATION_FAILED, "last_error": reason[:2000]} if failed_comp else {}
        saga_changes = {"status": SagaStatus.STUCK, "attention_reason": reason, "last_error": reason[:2000]}
        saga_changes["attention_code"] = AttentionCode.SUPERVISOR
        saga_changes["wake_at"] = None
        events.append(self.ev(EventKind.SAGA_STUCK, step.name if step else "", reason=reason))
        self.write(
            saga_changes=saga_changes, step=step if failed_comp else None, step_changes=step_changes, events=events
        )


def _brief(p: dict) -> dict:
    keys = ("service", "code", "rule", "version", "action", "commands", "command", "error", "attempt", "report_id")
    return {k: p[k] for k in keys if k in p}


# --- the overdue check (beat: sagaops.choreography.tasks.check_overdue) ---


def waiting_for(saga: Saga) -> str:
    """What an active choreographed saga waits for, in words."""
    flow = flow_for(saga.type)
    if saga.status == SagaStatus.COMPENSATING:
        pending = sorted(set(pending_commands(saga).values()))
        if pending:
            return f"waiting for the acknowledgement of {', '.join(pending)}"
        return "waiting for the supervisor's compensations"
    done = set(saga.steps.filter(status=StepStatus.SUCCEEDED).values_list("name", flat=True))
    expect = next((e for e in flow.expects if e.step not in done), None)
    if expect is None:
        return "waiting for nothing (every step is done)"
    return f"waiting for {expect.event} from {expect.service} (step {expect.step})"


def sagas_mark_overdue(*, now: datetime | None = None) -> int:
    """Mark stuck every active choreographed saga with no event for SAGAOPS_CHOREOGRAPHY_OVERDUE s."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=conf.SAGAOPS_CHOREOGRAPHY_OVERDUE)
    overdue = Saga.objects.filter(
        type__in=flow_types(),
        status__in=(SagaStatus.PENDING, SagaStatus.RUNNING, SagaStatus.COMPENSATING),
        updated_at__lt=limit,
    )
    marked = 0
    for saga in overdue.iterator(chunk_size=200):
        try:
            _mark_overdue(saga, now)
        except ConcurrentUpdate:
            continue  # the tracker moved it meanwhile: it is not overdue
        marked += 1
    return marked


def _mark_overdue(saga: Saga, now: datetime) -> None:
    since = saga.updated_at
    reason = f"overdue: {waiting_for(saga)} since {since:%Y-%m-%d %H:%M:%S} UTC"
    if saga.status == SagaStatus.PENDING:
        transition(saga, saga_changes={"status": SagaStatus.RUNNING})
    transition(
        saga,
        saga_changes={
            "status": SagaStatus.STUCK,
            "attention_reason": reason,
            "attention_code": AttentionCode.OVERDUE,
            "wake_at": None,
        },
        events=[Event(EventKind.SAGA_STUCK, detail={"reason": reason, "overdue_since": since.isoformat()})],
    )
