"""The repair rules: when each operator action may run, and what it changes. Pure.

Each `can_*` returns a Refusal (shown to the operator as is) or None; the matching `*_change`
is what the action writes. The services enforce them, and the console offers a button exactly
when its `can_*` returns None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sagaops.definitions import SagaDefinition
from sagaops.rules.change import Change, Event, Refusal
from sagaops.rules.forward import abandoned
from sagaops.rules.kinds import EventKind
from sagaops.rules.moves import (
    DONE_FORWARD,
    IN_FLIGHT,
    SagaState,
    StepState,
    attempt_in_flight,
    needs_compensation,
    pivot_passed,
    unsettled_step,
)
from sagaops.states import ACTIVE_SAGA_STATUSES, COMPENSATION_STEP_STATUSES, SagaStatus, StepStatus

S, T = SagaStatus, StepStatus


def _status_refusal(saga: SagaState, allowed: tuple[str, ...], action: str) -> Refusal | None:
    return None if saga.status in allowed else Refusal(f"cannot {action} a {saga.status} saga")


def _in_flight_refusal(steps: list[StepState], now: datetime, then: str) -> Refusal | None:
    step = attempt_in_flight(steps, now)
    if step is None:
        return None
    until = step.lease_expires_at.isoformat(timespec="seconds")
    return Refusal(f"an attempt of step {step.name} is in flight until {until}: wait for it, {then}", transient=True)


def _compensating(steps: list[StepState]) -> bool:
    return any(s.status in COMPENSATION_STEP_STATUSES for s in steps)


def _saga_changes(status: str, now: datetime, **extra: Any) -> dict[str, Any]:
    return {"status": status, "attention_reason": "", "attention_code": "", "wake_at": now, **extra}


# --- retry forward ---


def can_retry(saga: SagaState, definition: SagaDefinition | None, steps: list[StepState], *, now: datetime):
    if refusal := _status_refusal(saga, (S.STUCK, S.RUNNING), "retry forward"):
        return refusal
    if definition is not None and definition.choreographed:
        return Refusal("a choreographed saga moves when its services publish events: retry forward runs nothing")
    if _compensating(steps):
        return Refusal("the saga was compensating: retry the compensation instead")
    return _in_flight_refusal(steps, now, "or force compensation to undo it")


def retry_change(
    saga: SagaState, definition: SagaDefinition | None, steps: list[StepState], *, now: datetime, payload=None
) -> Change:
    """Back to the first unfinished step with its attempts reset. An attempt it abandons (its
    lease ran out without an answer) may have taken effect: it stays outcome-unknown, so that a
    later turn back compensates it. Before the pivot the saga gets a fresh deadline."""
    step = next((s for s in steps if s.status not in DONE_FORWARD), None)
    detail: dict[str, Any] = {"step": step.name if step else ""}
    saga_changes = _saga_changes(S.RUNNING, now)
    if definition is not None and not pivot_passed(definition, steps):
        saga_changes["deadline"] = now + definition.timeout
        detail["deadline"] = saga_changes["deadline"].isoformat(timespec="seconds")
    before = saga.context.get("payload", {})
    if payload is not None and payload != before:
        detail["payload_diff"] = payload_diff(before, payload)
        saga_changes["context"] = {**saga.context, "payload": payload}
    step_changes: dict[str, Any] = {}
    if step is not None:
        unknown = step.outcome_unknown or step.status in IN_FLIGHT
        step_changes = {
            "status": T.PENDING,
            "attempts": 0,
            "next_attempt_at": None,
            "lease_expires_at": None,
            "outcome_unknown": unknown,
        }
    return _operator_change(EventKind.OPERATOR_RETRY, saga_changes, step, step_changes, detail)


def payload_diff(before: dict, after: dict) -> dict[str, dict[str, Any]]:
    """{key: {"before": ..., "after": ...}} for each top-level key that changed. A side where the
    key is absent has no entry, so an absent key and one set to null read differently."""
    diff = {}
    for key in sorted(set(before) | set(after)):
        if key in before and key in after and before[key] == after[key]:
            continue
        sides = {"before": before, "after": after}
        diff[key] = {side: values[key] for side, values in sides.items() if key in values}
    return diff


# --- force compensation ---


def can_compensate(saga: SagaState, definition: SagaDefinition | None, steps: list[StepState], *, now: datetime):
    if refusal := _status_refusal(saga, (S.STUCK, S.RUNNING, S.PENDING), "force compensation"):
        return refusal
    if any(s.status == T.COMPENSATION_FAILED for s in steps):
        return Refusal("a compensation already failed: retry the compensation instead")
    if definition is not None and pivot_passed(definition, steps):
        pivot = definition.steps[definition.pivot_index].name
        return Refusal(
            f"the saga is past its pivot ({pivot}): its outcome stands; retry forward, skip the step or resolve"
        )
    return None


def compensate_change(saga: SagaState, steps: list[StepState], *, now: datetime) -> Change:
    step = unsettled_step(steps)
    saga_changes = _saga_changes(S.COMPENSATING, now)
    return _operator_change(EventKind.OPERATOR_COMPENSATE, saga_changes, step, abandoned() if step else {}, {})


# --- retry compensation ---


def _compensation_to_retry(definition: SagaDefinition | None, saga: SagaState, steps: list[StepState]):
    if saga.status == S.STUCK:
        return next((s for s in steps if s.status == T.COMPENSATION_FAILED), None)
    if definition is None:
        return None
    return next((s for s in reversed(steps) if needs_compensation(definition, s)), None)


def can_retry_compensation(
    saga: SagaState, definition: SagaDefinition | None, steps: list[StepState], *, now: datetime
):
    """A failed compensation (stuck), or a compensating saga that is not moving (kick it)."""
    if refusal := _status_refusal(saga, (S.STUCK, S.COMPENSATING), "retry compensation"):
        return refusal
    if _compensation_to_retry(definition, saga, steps) is None:
        return Refusal("no compensation has failed: nothing to retry")
    return _in_flight_refusal(steps, now, "it retries by itself if it fails")


def retry_compensation_change(
    saga: SagaState, definition: SagaDefinition | None, steps: list[StepState], *, now: datetime
) -> Change:
    step = _compensation_to_retry(definition, saga, steps)
    step_changes = {"status": T.COMPENSATING, "compensation_attempts": 0, "next_attempt_at": None}
    detail = {"step": step.name}
    return _operator_change(
        EventKind.OPERATOR_RETRY_COMPENSATION, _saga_changes(S.COMPENSATING, now), step, step_changes, detail
    )


# --- skip a step, mark a compensation done ---


def _named(steps: list[StepState], name: str) -> StepState | None:
    return next((s for s in steps if s.name == name), None)


def can_skip(saga: SagaState, steps: list[StepState], step_name: str, *, now: datetime):
    if refusal := _status_refusal(saga, (S.STUCK,), "skip a step"):
        return refusal
    step = _named(steps, step_name)
    if step is None:
        return Refusal(f"the saga has no step {step_name!r}")
    if step.status != T.FAILED:
        return Refusal(f"step {step_name} is {step.status}; only a failed step can be skipped")
    if _compensating(steps):
        return Refusal("the saga was compensating: mark the compensation done instead")
    return None


def skip_change(saga: SagaState, steps: list[StepState], step_name: str, *, now: datetime) -> Change:
    step = _named(steps, step_name)
    step_changes = {"status": T.SKIPPED, "finished_at": now}
    saga_changes = _saga_changes(S.RUNNING, now)
    return _operator_change(EventKind.OPERATOR_SKIP_STEP, saga_changes, step, step_changes, {"step": step_name})


def can_mark_done(saga: SagaState, steps: list[StepState], step_name: str, *, now: datetime):
    if refusal := _status_refusal(saga, (S.STUCK,), "mark a compensation done"):
        return refusal
    step = _named(steps, step_name)
    if step is None:
        return Refusal(f"the saga has no step {step_name!r}")
    if step.status != T.COMPENSATION_FAILED:
        return Refusal(f"step {step_name} is {step.status}; its compensation has not failed")
    return None


def mark_done_change(saga: SagaState, steps: list[StepState], step_name: str, *, now: datetime) -> Change:
    step = _named(steps, step_name)
    step_changes = {"status": T.COMPENSATED, "finished_at": now}
    saga_changes = _saga_changes(S.COMPENSATING, now)
    detail = {"step": step_name}
    return _operator_change(EventKind.OPERATOR_COMPENSATION_DONE, saga_changes, step, step_changes, detail)


# --- resolve by hand ---


def can_resolve(saga: SagaState, steps: list[StepState], *, now: datetime):
    """Any saga that is not finished, once no attempt is in flight: no saga is beyond repair."""
    if refusal := _status_refusal(saga, (*ACTIVE_SAGA_STATUSES, S.STUCK), "resolve"):
        return refusal
    return _in_flight_refusal(steps, now, "or it could take effect after you resolve")


def resolve_change(saga: SagaState, *, now: datetime) -> Change:
    saga_changes = {"status": S.RESOLVED, "finished_at": now, "wake_at": None}
    return _operator_change(EventKind.OPERATOR_RESOLVE, saga_changes, None, {}, {"from": saga.status})


def _operator_change(kind, saga_changes, step, step_changes, detail) -> Change:
    """The operator's name, user and reason are filled in by the service that runs the action."""
    return Change(
        saga=saga_changes,
        step_index=step.index if step is not None else None,
        step=step_changes if step is not None else {},
        events=[Event(kind, step.name if step is not None else "", detail)],
    )
