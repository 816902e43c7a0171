"""Repairs with data: complete a step by hand with its result, edit a step's recorded result, and
the plan of a forced compensation (what would run, in order, with its input). Pure.

Like `repairs`, each `can_*` returns a Refusal (shown as is) or None, and `*_change` is what the
operator's service writes under the fence.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sagaops.definitions import SagaDefinition
from sagaops.rules.change import Change, Event, Refusal
from sagaops.rules.forward import abandoned
from sagaops.rules.kinds import EventKind
from sagaops.rules.moves import DONE_FORWARD, attempt_in_flight, needs_compensation, results_for, unsettled_step
from sagaops.rules.protocols import SagaState, StepState
from sagaops.states import COMPENSATION_STEP_STATUSES, SagaStatus, StepStatus

S, T = SagaStatus, StepStatus
# A step an operator may complete by hand: it failed (the saga is stuck on it), it is held, or it
# waits for a callback that is not coming.
COMPLETABLE = (T.FAILED, T.HELD, T.WAITING, T.PENDING)


def _named(steps: list[StepState], name: str) -> StepState | None:
    return next((s for s in steps if s.name == name), None)


def _first_unfinished(steps: list[StepState]) -> StepState | None:
    return next((s for s in steps if s.status not in DONE_FORWARD), None)


def _forward_refusal(saga: SagaState, steps: list[StepState], name: str, action: str) -> Refusal | None:
    if saga.status not in (S.STUCK, S.RUNNING, S.PENDING):
        return Refusal(f"cannot {action} of a {saga.status} saga")
    if _named(steps, name) is None:
        return Refusal(f"the saga has no step {name!r}", field="step")
    if any(s.status in COMPENSATION_STEP_STATUSES for s in steps):
        return Refusal("the saga was compensating: its forward results no longer matter")
    return None


# --- complete a step by hand ---


def can_complete_by_hand(saga: SagaState, steps: list[StepState], name: str, *, now: datetime) -> Refusal | None:
    if refusal := _forward_refusal(saga, steps, name, "complete a step"):
        return refusal
    step = _named(steps, name)
    in_flight = attempt_in_flight(steps, now)
    if in_flight is not None and in_flight.status == T.RUNNING:
        until = in_flight.lease_expires_at.isoformat(timespec="seconds")
        return Refusal(f"an attempt of step {in_flight.name} is in flight until {until}: wait for it", transient=True)
    if step is not _first_unfinished(steps) or step.status not in COMPLETABLE:
        return Refusal(
            f"step {name} is {step.status}: only the next step, failed, held or waiting, can be completed by hand"
        )
    if step.status == T.PENDING and saga.status != S.STUCK:
        return Refusal(f"step {name} is about to run: hold it first, or let it run")
    return None


def complete_by_hand_change(
    saga: SagaState, steps: list[StepState], name: str, result: Any, *, now: datetime
) -> Change:
    """The step succeeded with the operator's result; the saga goes on with it in `ctx.results`."""
    step = _named(steps, name)
    step_changes = {
        "status": T.SUCCEEDED,
        "result": result,
        "finished_at": now,
        "lease_expires_at": None,
        "next_attempt_at": None,
        "held_by": None,
        "held_at": None,
    }
    saga_changes = {"status": S.RUNNING, "attention_reason": "", "wake_at": now}
    detail = {"step": name, "result": result, "was": step.status}
    return Change(saga_changes, step.index, step_changes, [Event(EventKind.OPERATOR_COMPLETE_STEP, name, detail)])


# --- edit a recorded result ---


def can_edit_result(saga: SagaState, steps: list[StepState], name: str, *, now: datetime) -> Refusal | None:
    """A succeeded step's result, while the saga is stuck or held before the step that reads it."""
    if refusal := _forward_refusal(saga, steps, name, "edit a result"):
        return refusal
    step = _named(steps, name)
    if step.status != T.SUCCEEDED:
        return Refusal(f"step {name} is {step.status}; only a succeeded step has a result to edit")
    nxt = _first_unfinished(steps)
    if saga.status != S.STUCK and (nxt is None or nxt.status != T.HELD):
        return Refusal("edit a result only while the saga waits for you: stuck, or held before its next step")
    if nxt is not None and nxt.index < step.index:
        return Refusal(f"step {name} comes after {nxt.name}, which has not run yet")
    return None


def edit_result_change(saga: SagaState, steps: list[StepState], name: str, result: Any) -> Change:
    step = _named(steps, name)
    detail = {"step": name, "diff": result_diff(step.result, result)}
    return Change(
        {"status": saga.status}, step.index, {"result": result}, [Event(EventKind.OPERATOR_EDIT_RESULT, name, detail)]
    )


def result_diff(before: Any, after: Any) -> dict[str, Any]:
    """Key by key for two objects (absent keys have no side), else the two values whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        diff = {}
        for key in sorted(set(before) | set(after)):
            if key in before and key in after and before[key] == after[key]:
                continue
            diff[key] = {side: values[key] for side, values in (("before", before), ("after", after)) if key in values}
        return diff
    return {"": {"before": before, "after": after}} if before != after else {}


# --- what a forced compensation would run ---


def compensation_plan(saga_id: str, saga: SagaState, definition: SagaDefinition, steps: list[StepState]) -> list[dict]:
    """The compensations forcing compensation would run now, in order, each with the input its
    compensation gets (the payload is the saga's; `results` and the idempotency key are the step's)."""
    unsettled = unsettled_step(steps)
    planned = [_as_abandoned(s) if s is unsettled else s for s in steps]
    plan = []
    for step in reversed(planned):
        if not needs_compensation(definition, step) or step.status == T.COMPENSATED:
            continue
        plan.append(
            {
                "step": step.name,
                "index": step.index,
                "status": step.status,
                "outcome_unknown": bool(step.outcome_unknown),
                "kind": definition.steps[step.index].kind,
                "input": {
                    "results": results_for(planned, step.index, compensating=True),
                    "idempotency_key": f"{saga_id}:{step.name}:compensate",
                    "action_key": f"{saga_id}:{step.name}",
                },
            }
        )
    return plan


def _as_abandoned(step: StepState) -> StepState:
    """The step as compensation would find it after the turn back (a copy: the rules write nothing)."""
    planned = copy.copy(step)
    for name, value in abandoned().items():
        setattr(planned, name, value)
    return planned
