"""Decide what a saga needs next. Pure: no database, no Redis, no clock of its own.

The executor loads a saga, asks `next_move`, and carries the move out under the version fence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sagaops.definitions import SagaDefinition
from sagaops.states import SagaStatus, StepStatus


class StepState(Protocol):
    index: int
    status: str
    next_attempt_at: datetime | None
    lease_expires_at: datetime | None
    outcome_unknown: bool


@dataclass(frozen=True)
class Move:
    """kind is one of:
    run / compensate          - execute step `index` (its action / its compensation) now
    expire / expire_comp      - step `index`'s lease ran out: treat as a timeout failure
    wait                      - nothing to do before `until`
    complete / compensated    - the saga is finished
    start_compensation        - the saga must turn back (`reason` says why)
    idle                      - nothing the engine can do (finished, stuck, or needs an operator)
    """

    kind: str
    index: int | None = None
    until: datetime | None = None
    reason: str = ""


IDLE = Move("idle")


def pivot_passed(definition: SagaDefinition, steps: list[StepState]) -> bool:
    pivot = definition.pivot_index
    return pivot is not None and steps[pivot].status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED)


def next_move(
    *, status: str, definition: SagaDefinition, steps: list[StepState], deadline: datetime | None, now: datetime
) -> Move:
    if definition.choreographed:
        return IDLE  # its services move it; the tracker records their events
    if status in (SagaStatus.PENDING, SagaStatus.RUNNING):
        return _forward_move(definition, steps, deadline, now)
    if status == SagaStatus.COMPENSATING:
        return _compensation_move(definition, steps, now)
    return IDLE


def _forward_move(definition: SagaDefinition, steps: list[StepState], deadline: datetime | None, now: datetime) -> Move:
    # After the pivot the saga only goes forward: the deadline no longer turns it back.
    watch_deadline = deadline is not None and not pivot_passed(definition, steps)
    if watch_deadline and now >= deadline:
        return Move("start_compensation", reason="saga deadline exceeded")
    step = next((s for s in steps if s.status not in (StepStatus.SUCCEEDED, StepStatus.SKIPPED)), None)
    if step is None:
        return Move("complete")
    move = _forward_step_move(step, now)
    if move.kind == "wait" and watch_deadline:
        return Move("wait", until=min(move.until, deadline))
    return move


def _forward_step_move(step: StepState, now: datetime) -> Move:
    if step.status == StepStatus.PENDING:
        if step.next_attempt_at is not None and step.next_attempt_at > now:
            return Move("wait", until=step.next_attempt_at)
        return Move("run", index=step.index)
    if step.status in (StepStatus.RUNNING, StepStatus.WAITING):
        if step.lease_expires_at is None or step.lease_expires_at <= now:
            return Move("expire", index=step.index)
        return Move("wait", until=step.lease_expires_at)
    return IDLE  # failed: only an operator moves it on


def needs_compensation(definition: SagaDefinition, step: StepState) -> bool:
    spec = definition.steps[step.index]
    if spec.compensation is None:
        return False
    if step.status in (StepStatus.PENDING, StepStatus.FAILED) and spec.always_compensate:
        return True  # its effect was written before the step ran
    if step.status == StepStatus.FAILED:
        return step.outcome_unknown  # it may have taken effect
    return step.status in (StepStatus.SUCCEEDED, StepStatus.COMPENSATING, StepStatus.COMPENSATION_FAILED)


# What turning back does to the unsettled forward step (see unsettled_step).
ABANDON_STEP = {
    "status": StepStatus.FAILED,
    "outcome_unknown": True,
    "lease_expires_at": None,
    "next_attempt_at": None,
}


def unsettled_step(steps: list[StepState]) -> StepState | None:
    """The forward step that may have taken effect without being settled: in flight, or waiting
    for a retry after an attempt whose outcome is unknown. A saga turning back marks it failed with
    ABANDON_STEP, so that it is compensated too (compensations accept "nothing to undo")."""
    in_flight = (StepStatus.RUNNING, StepStatus.WAITING)
    return next(
        (s for s in steps if s.status in in_flight or (s.status == StepStatus.PENDING and s.outcome_unknown)), None
    )


def _compensation_move(definition: SagaDefinition, steps: list[StepState], now: datetime) -> Move:
    step = next((s for s in reversed(steps) if needs_compensation(definition, s)), None)
    if step is None:
        return Move("compensated")
    if step.status == StepStatus.COMPENSATION_FAILED:
        return IDLE
    if step.status == StepStatus.COMPENSATING:
        if step.lease_expires_at is not None:
            if step.lease_expires_at <= now:
                return Move("expire_comp", index=step.index)
            return Move("wait", until=step.lease_expires_at)
        if step.next_attempt_at is not None and step.next_attempt_at > now:
            return Move("wait", until=step.next_attempt_at)
    return Move("compensate", index=step.index)
