"""What a saga needs next, read from its state alone. Pure: no database, no Redis, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sagaops.definitions import SagaDefinition, Step
from sagaops.rules import branches
from sagaops.rules.change import IDLE, Move
from sagaops.rules.holds import HOLD_RECHECK, HoldState, holding
from sagaops.rules.kinds import MoveKind
from sagaops.rules.protocols import SagaState, StepState
from sagaops.rules.step_states import DONE_FORWARD, IN_FLIGHT, needs_compensation, pivot_passed
from sagaops.states import ACTIVE_SAGA_STATUSES, SagaStatus, StepStatus

T = StepStatus
# A saga whose timer is this far overdue should have moved: the timer (or its advance) was lost.
STALL_GRACE = timedelta(seconds=60)


def next_move(
    *,
    status: str,
    definition: SagaDefinition,
    steps: list[StepState],
    deadline: datetime | None,
    now: datetime,
    exclusive: bool = False,
    holds: Sequence[HoldState] = (),
) -> Move:
    """The next move. `exclusive`: the caller holds the saga's lock, so a local step or local
    compensation it finds claimed belongs to an executor that is gone (its worker died).
    `holds`: the holds in force that may concern this saga's type."""
    if definition.choreographed:
        return IDLE  # its services move it; the tracker records their events
    if status in (SagaStatus.PENDING, SagaStatus.RUNNING):
        return _forward_move(definition, steps, deadline, now, exclusive, holds)
    if status == SagaStatus.COMPENSATING:
        return _compensation_move(definition, steps, now, exclusive)
    return IDLE


def _forward_move(definition, steps, deadline, now, exclusive, holds) -> Move:
    step = next((s for s in steps if s.status not in DONE_FORWARD), None)
    if step is not None and step.status == T.HELD:
        # Held: no deadline runs out while the operator waits for the outage to end.
        return _held_step_move(step, definition, holds, now)
    # After the pivot the saga only goes forward: the deadline no longer turns it back.
    watch_deadline = deadline is not None and not pivot_passed(definition, steps)
    if watch_deadline and now >= deadline:
        return Move(MoveKind.START_COMPENSATION, reason="saga deadline exceeded")
    if step is None:
        return Move(MoveKind.COMPLETE)
    if definition.steps[step.index].group:
        return _within_deadline(
            branches.group_move(definition, definition.group_of(step.index), steps, now=now),
            deadline if watch_deadline else None,
        )
    move = _forward_step_move(step, definition.steps[step.index], exclusive, now)
    if move.kind == MoveKind.RUN and (hold := holding(holds, definition, step)) is not None:
        return Move(MoveKind.HOLD, index=step.index, hold_id=hold.id)
    if move.kind == MoveKind.WAIT and watch_deadline:
        return Move(MoveKind.WAIT, until=min(move.until, deadline))
    return move


def _within_deadline(move: Move, deadline: datetime | None) -> Move:
    if move.kind == MoveKind.WAIT and deadline is not None:
        return Move(MoveKind.WAIT, until=min(move.until, deadline))
    return move


def _held_step_move(step: StepState, definition: SagaDefinition, holds: Sequence[HoldState], now: datetime) -> Move:
    hold = holding(holds, definition, step)
    if hold is None:
        return Move(MoveKind.RELEASE, index=step.index)  # its hold went away without releasing it
    if hold.id != getattr(step, "held_by", None):
        return Move(MoveKind.HOLD, index=step.index, hold_id=hold.id)  # another hold took it over
    return Move(MoveKind.WAIT, until=now + HOLD_RECHECK)


def _forward_step_move(step: StepState, spec: Step, exclusive: bool, now: datetime) -> Move:
    if step.status == T.PENDING:
        if step.next_attempt_at is not None and step.next_attempt_at > now:
            return Move(MoveKind.WAIT, until=step.next_attempt_at)
        return Move(MoveKind.RUN, index=step.index)
    if step.status in IN_FLIGHT:
        if exclusive and spec.kind == "local" and step.status == T.RUNNING:
            # A claim left by an executor that died: its run was rolled back whole. Run this step
            # again, alone, so that a crash in a later step of that run is counted on that step.
            if step.attempts < spec.retry.max_attempts:
                return Move(MoveKind.RUN, index=step.index, alone=True)
            return Move(MoveKind.EXPIRE, index=step.index)
        if step.lease_expires_at is None or step.lease_expires_at <= now:
            return Move(MoveKind.EXPIRE, index=step.index)
        return Move(MoveKind.WAIT, until=step.lease_expires_at)
    return IDLE  # failed: only an operator moves it on


def unsettled_step(steps: list[StepState]) -> StepState | None:
    """The forward step that may have taken effect without being settled: in flight, or waiting
    for a retry after an attempt whose outcome is unknown. A saga turning back marks it failed
    with its outcome unknown, so that it is compensated too (compensations accept "nothing to undo")."""
    waiting = (T.PENDING, T.HELD)
    return next((s for s in steps if s.status in IN_FLIGHT or (s.status in waiting and s.outcome_unknown)), None)


def _compensation_move(definition, steps, now, exclusive) -> Move:
    step = next(
        (s for s in reversed(steps) if needs_compensation(definition, s) or branches.in_flight_branch(definition, s)),
        None,
    )
    if step is None:
        return Move(MoveKind.COMPENSATED)
    if definition.steps[step.index].group:
        return branches.group_compensation_move(definition, definition.group_of(step.index), steps, now=now)
    if step.status == T.COMPENSATION_FAILED:
        return IDLE
    if step.status == T.COMPENSATING:
        if step.lease_expires_at is not None:
            orphaned = exclusive and definition.steps[step.index].kind == "local"
            if orphaned or step.lease_expires_at <= now:
                return Move(MoveKind.EXPIRE_COMPENSATION, index=step.index)
            return Move(MoveKind.WAIT, until=step.lease_expires_at)
        if step.next_attempt_at is not None and step.next_attempt_at > now:
            return Move(MoveKind.WAIT, until=step.next_attempt_at)
    return Move(MoveKind.COMPENSATE, index=step.index)


def results_for(steps: list[StepState], index: int, *, compensating: bool) -> dict[str, Any]:
    """The results a step's action (or compensation) sees: every earlier forward result, and for a
    compensation also its own step's, whatever the compensation has done to their status since."""
    if not compensating:
        return {s.name: s.result for s in steps if s.status == T.SUCCEEDED}
    undoing = (T.COMPENSATING, T.COMPENSATED, T.COMPENSATION_FAILED)
    return {
        s.name: s.result
        for s in steps
        if s.index <= index and (s.status == T.SUCCEEDED or (s.status in undoing and s.result is not None))
    }


def attempt_in_flight(steps: list[StepState], now: datetime) -> StepState | None:
    """A step whose action or compensation an executor (or a service) may still be carrying out."""
    holding = (T.RUNNING, T.WAITING, T.COMPENSATING)
    return next(
        (s for s in steps if s.status in holding and s.lease_expires_at is not None and s.lease_expires_at > now),
        None,
    )


def is_stalled(saga: SagaState, *, now: datetime, stuck_after: timedelta) -> bool:
    """Stalled: an active saga that should have moved and did not (no progress for `stuck_after`,
    and no timer ahead of it: a saga legitimately waiting for a callback or a retry is not stalled).
    `sagaops.selectors.stalled_q` is the same test as a query."""
    if saga.status not in ACTIVE_SAGA_STATUSES or saga.updated_at >= now - stuck_after:
        return False
    return saga.wake_at is None or saga.wake_at < now - STALL_GRACE
