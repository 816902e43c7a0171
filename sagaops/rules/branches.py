"""The rules of Parallel groups: which branch steps run or are undone next, what their outcomes
change, when a group fails, and the operator's retry of one branch. Pure.

A group is a run of step rows (its branches one after another, see `GroupSpec`). Its branch steps
are claimed by the executor under the saga's fence and carried out each by a task of its own,
which writes the outcome under the step's own fence (`sagaops.services.branches`): these outcome
changes therefore never set the saga's status, except a compensation that runs out of retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sagaops.definitions import GroupSpec, SagaDefinition
from sagaops.exceptions import StepTimeout, WorkerLost
from sagaops.rules.change import IDLE, Change, Event, Move, Refusal
from sagaops.rules.failures import Failure, failure_of
from sagaops.rules.kinds import AttentionCode, EventKind, MoveKind
from sagaops.rules.protocols import SagaState, StepState
from sagaops.rules.step_states import DONE_FORWARD, IN_FLIGHT, needs_compensation, pivot_passed
from sagaops.states import SagaStatus, StepStatus

T = StepStatus
# A branch's outcome enqueues the join (an advance) at once; if that advance is lost, the saga's
# timer runs it after this long.
BRANCH_WAKE = timedelta(seconds=5)


def members(group: GroupSpec, steps: Sequence[StepState]) -> list[StepState]:
    return [steps[i] for i in group.indexes]


def group_started_at(group: GroupSpec, steps: Sequence[StepState]) -> datetime | None:
    started = [s.started_at for s in members(group, steps) if getattr(s, "started_at", None)]
    return min(started) if started else None


def group_failure(group: GroupSpec, steps: Sequence[StepState], *, now: datetime) -> str:
    """Why the group has failed ("" while it has not): a branch failed, or its timeout passed."""
    failed = next((s for s in members(group, steps) if s.status == T.FAILED), None)
    if failed is not None:
        return f"branch {failed.name} of {group.name} failed"
    started = group_started_at(group, steps)
    if group.timeout is not None and started is not None and now >= started + timedelta(seconds=group.timeout):
        return f"group {group.name} timed out after {group.timeout:g}s"
    return ""


def in_flight_branch(definition: SagaDefinition, step: StepState) -> bool:
    """A branch step whose forward attempt may still be under way (a task or a service on it)."""
    return bool(definition.steps[step.index].group) and step.status in IN_FLIGHT


def _lease_move(step: StepState, kind: MoveKind, now: datetime) -> Move | datetime:
    """EXPIRE-like move when the step's lease ran out, else the time to look again."""
    if step.lease_expires_at is None or step.lease_expires_at <= now:
        return Move(kind, index=step.index)
    return step.lease_expires_at


def _wait(wakes: list[datetime]) -> Move:
    return Move(MoveKind.WAIT, until=min(wakes)) if wakes else IDLE


def group_move(definition: SagaDefinition, group: GroupSpec, steps: Sequence[StepState], *, now: datetime) -> Move:
    """The forward move of a group that is not done: fork the ready branch steps (at most
    `max_fan_out` at once), wait for the running ones, or turn back once a failed group is quiet."""
    failure = group_failure(group, steps, now=now)
    ready, wakes, running = [], [], 0
    for branch in group.branches:
        step = next((steps[i] for i in branch if steps[i].status not in DONE_FORWARD), None)
        if step is None or step.status == T.FAILED:
            continue
        if step.status in IN_FLIGHT:
            running += 1
            lease = _lease_move(step, MoveKind.EXPIRE_BRANCH, now)
            if isinstance(lease, Move):
                return lease
            wakes.append(lease)
        elif step.next_attempt_at is not None and step.next_attempt_at > now and not failure:
            wakes.append(step.next_attempt_at)
        else:
            ready.append(step.index)
    if failure:
        if running:
            return _wait(wakes)  # siblings under way are awaited; the others are not started
        if pivot_passed(definition, steps):
            return Move(MoveKind.GROUP_STUCK, reason=failure)
        return Move(MoveKind.START_COMPENSATION, reason=failure)
    room = len(ready) if group.max_fan_out is None else max(group.max_fan_out - running, 0)
    if ready and room:
        return Move(MoveKind.FORK, indexes=tuple(ready[:room]))
    started = group_started_at(group, steps)
    if group.timeout is not None and started is not None:
        wakes.append(started + timedelta(seconds=group.timeout))
    return _wait(wakes)


def group_compensation_move(
    definition: SagaDefinition, group: GroupSpec, steps: Sequence[StepState], *, now: datetime
) -> Move:
    """Undo the group: every branch's newest step that took effect, all branches at once. A branch
    attempt still under way is awaited (its outcome decides whether there is anything to undo)."""
    ready, wakes = [], []
    for branch in group.branches:
        runs = [steps[i] for i in branch]
        flying = next((s for s in runs if s.status in IN_FLIGHT), None)
        if flying is not None:
            lease = _lease_move(flying, MoveKind.EXPIRE_BRANCH, now)
            if isinstance(lease, Move):
                return lease
            wakes.append(lease)
            continue
        step = next((s for s in reversed(runs) if needs_compensation(definition, s)), None)
        if step is None or step.status == T.COMPENSATION_FAILED:
            continue
        if step.status == T.COMPENSATING and step.lease_expires_at is not None:
            lease = _lease_move(step, MoveKind.EXPIRE_COMPENSATION, now)
            if isinstance(lease, Move):
                return lease
            wakes.append(lease)
        elif step.status == T.COMPENSATING and step.next_attempt_at is not None and step.next_attempt_at > now:
            wakes.append(step.next_attempt_at)
        else:
            ready.append(step.index)
    running = len(wakes)
    room = len(ready) if group.max_fan_out is None else max(group.max_fan_out - running, 0)
    if ready and room:
        return Move(MoveKind.FORK_COMPENSATION, indexes=tuple(ready[:room]))
    return _wait(wakes)


# --- a branch step's outcome, written by its task under the step's fence ---


def on_branch_succeeded(step: StepState, *, result: Any, attempts: int, now: datetime) -> Change:
    return Change(
        saga={"wake_at": now + BRANCH_WAKE},
        step_index=step.index,
        step={
            "status": T.SUCCEEDED,
            "attempts": attempts,
            "result": result,
            "finished_at": now,
            "lease_expires_at": None,
            "next_attempt_at": None,
        },
        events=[Event(EventKind.STEP_SUCCEEDED, step.name, {"attempt": attempts})],
    )


def on_branch_waiting(step: StepState, command: Any) -> Change:
    return Change(
        step_index=step.index,
        step={"status": T.WAITING},
        events=[Event(EventKind.STEP_WAITING, step.name, {"command": command})],
    )


def on_branch_failed(
    definition: SagaDefinition, step: StepState, failure: Failure, *, attempts: int, now: datetime
) -> Change:
    """Retry the branch while its own policy allows; then the branch has failed (the join, the
    next advance, turns the group back once its siblings are quiet). A remote branch whose
    failure may hide an effect is compensated like a remote step (outcome unknown)."""
    spec = definition.steps[step.index]
    unknown = step.outcome_unknown or (spec.kind != "local" and (failure.retryable or failure.unanswered))
    base = {"attempts": attempts, "lease_expires_at": None, "outcome_unknown": unknown, **failure.fields()}
    detail = {**failure.detail(attempts), "group": spec.group, "branch": spec.branch}
    if failure.retryable and attempts < spec.retry.max_attempts:
        retry_at = now + timedelta(seconds=spec.retry.delay(attempts))
        return Change(
            saga={"wake_at": retry_at, "last_error": failure.message},
            step_index=step.index,
            step={**base, "status": T.PENDING, "next_attempt_at": retry_at},
            events=[Event(EventKind.STEP_RETRY_SCHEDULED, step.name, {**detail, "retry_at": retry_at.isoformat()})],
        )
    return Change(
        saga={"wake_at": now + BRANCH_WAKE, "last_error": failure.message},
        step_index=step.index,
        step={**base, "status": T.FAILED, "finished_at": now, "next_attempt_at": None},
        events=[Event(EventKind.STEP_FAILED, step.name, detail)],
    )


def on_branch_lease_expired(definition: SagaDefinition, step: StepState, *, now: datetime) -> Change:
    """A branch attempt ended without an outcome: its worker died (running) or no callback came."""
    spec = definition.steps[step.index]
    error = WorkerLost(step.name) if step.status == T.RUNNING else StepTimeout(step.name, spec.timeout)
    return on_branch_failed(definition, step, failure_of(error, spec.retry), attempts=step.attempts, now=now)


def on_branch_compensated(step: StepState, *, attempts: int, now: datetime) -> Change:
    return Change(
        saga={"wake_at": now + BRANCH_WAKE},
        step_index=step.index,
        step={
            "status": T.COMPENSATED,
            "compensation_attempts": attempts,
            "lease_expires_at": None,
            "next_attempt_at": None,
            "finished_at": now,
        },
        events=[Event(EventKind.STEP_COMPENSATED, step.name, {"attempt": attempts})],
    )


def on_group_stuck(definition: SagaDefinition, steps: Sequence[StepState], reason: str) -> Change:
    """A branch failed past the pivot: the saga cannot turn back, an operator retries the branch."""
    failed = next((s for s in steps if s.status == T.FAILED and definition.steps[s.index].group), None)
    step_name = failed.name if failed else ""
    return Change(
        saga={
            "status": SagaStatus.STUCK,
            "wake_at": None,
            "attention_reason": f"{reason} past the pivot: retry the branch, skip it or resolve",
            "attention_code": AttentionCode.BRANCH_FAILED,
        },
        events=[Event(EventKind.SAGA_STUCK, step_name, {"reason": reason, "code": AttentionCode.BRANCH_FAILED})],
    )


def branch_wake(
    change: Change, *, siblings_in_flight: bool, branch_goes_on: bool = False
) -> tuple[bool, datetime | None]:
    """After a branch outcome: (send the join now?, the earliest time the saga must be looked at).

    The join is sent by the last branch attempt in flight (one still in flight sends its own when
    it ends, or its lease runs out on the saga's timer: ten branches cost one join, not ten), and
    by an outcome after which its own branch goes on (`branch_goes_on`: the next step of its
    sequence is to run, or the one before it to be undone). A retry for later only pulls the
    saga's timer in, whoever is still running."""
    settled = change.step.get("status") in (T.SUCCEEDED, T.COMPENSATED)
    if not siblings_in_flight or (branch_goes_on and settled):
        return True, change.saga.get("wake_at")
    return False, change.step.get("next_attempt_at")


def branch_goes_on(group: GroupSpec, index: int, *, compensating: bool) -> bool:
    """Whether step `index` has a step after it (forward) or before it (compensating) in its branch."""
    run = next(b for b in group.branches if index in b)
    return index != (run[0] if compensating else run[-1])


def in_flight_statuses(compensating: bool) -> tuple[str, ...]:
    """The statuses of a branch attempt under way (a claimed compensation is compensating)."""
    return (T.COMPENSATING,) if compensating else IN_FLIGHT


# --- the operator's retry of one failed branch ---


def can_retry_branch(saga: SagaState, definition: SagaDefinition | None, step: StepState) -> Refusal | None:
    """The guard the console's "retry this branch" button and the service both ask."""
    if definition is None:
        return Refusal(f"this worker does not know {getattr(saga, 'type', 'the saga type')}")
    if not definition.steps[step.index].group:
        return Refusal(f"step {step.name} is not a branch of a Parallel group: retry the saga forward")
    if saga.status not in (SagaStatus.STUCK, SagaStatus.RUNNING):
        return Refusal(f"the saga is {saga.status}: only a running or stuck saga's branch can be retried")
    if step.status != T.FAILED:
        return Refusal(f"step {step.name} is {step.status}: only a failed branch can be retried")
    return None


def retry_branch_change(saga: SagaState, step: StepState, *, now: datetime) -> Change:
    """The failed branch step goes back to pending with fresh attempts, the saga back to running.
    An outcome-unknown attempt stays unknown, so that a later turn back still compensates it."""
    return Change(
        saga={"status": SagaStatus.RUNNING, "wake_at": now, "attention_reason": "", "attention_code": ""},
        step_index=step.index,
        step={"status": T.PENDING, "attempts": 0, "next_attempt_at": None, "finished_at": None},
        events=[Event(EventKind.OPERATOR_RETRY_BRANCH, step.name, {"step": step.name})],
    )
