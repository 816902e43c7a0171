"""The hold rules: which hold keeps a step from starting, what holding and releasing change, when an
operator may place, release, pause or cancel a hold, and when the circuit breaker trips. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sagaops.definitions import BreakerPolicy, SagaDefinition, Step
from sagaops.rules.change import Change, Event, Refusal
from sagaops.rules.kinds import EventKind
from sagaops.rules.protocols import SagaState, StepState
from sagaops.states import ACTIVE_SAGA_STATUSES, StepStatus

T = StepStatus
# A held saga looks again this often: if its hold went away without releasing it (a release that
# raced with the hold's last saga), it goes on by itself.
HOLD_RECHECK = timedelta(seconds=60)
MAX_RELEASE_RATE = 1000.0

ACTIVE, RELEASING, PAUSED, RELEASED = "active", "releasing", "paused", "released"
IN_FORCE = (ACTIVE, RELEASING, PAUSED)


class HoldState(Protocol):
    id: int
    saga_type: str
    step: str
    participant: str
    status: str
    reason: str


def matches(hold: HoldState, definition: SagaDefinition, spec: Step) -> bool:
    if hold.participant:
        return spec.participant == hold.participant
    return hold.saga_type == definition.name and hold.step == spec.name


def holding(holds: Iterable[HoldState], definition: SagaDefinition, step: StepState) -> HoldState | None:
    """The hold in force that keeps this step from starting; one that released it already lets it pass."""
    spec = definition.steps[step.index]
    passed = getattr(step, "hold_passes", None) or ()
    return next(
        (h for h in holds if h.status in IN_FORCE and h.id not in passed and matches(h, definition, spec)),
        None,
    )


def held_reason(hold: HoldState) -> str:
    return f"held by hold #{hold.id}: {hold.reason}"


def on_step_held(saga: SagaState, step: StepState, hold: HoldState, *, now: datetime) -> Change:
    """The step waits for the hold's release: no attempt, so no retry is burned; the time it waits
    does not count against the saga's deadline (its release pushes the deadline back)."""
    held_at = getattr(step, "held_at", None) if step.status == T.HELD else None
    return Change(
        saga={"current_step": step.index, "attention_reason": held_reason(hold), "wake_at": now + HOLD_RECHECK},
        step_index=step.index,
        step={"status": T.HELD, "held_by": hold.id, "held_at": held_at or now, "next_attempt_at": None},
        events=[Event(EventKind.STEP_HELD, step.name, {"hold": hold.id, "reason": hold.reason})],
    )


def can_release_step(saga: SagaState, step: StepState | None) -> Refusal | None:
    if saga.status not in ACTIVE_SAGA_STATUSES:
        return Refusal(f"the saga is {saga.status}")
    if step is None or step.status != T.HELD:
        return Refusal("the step is no longer held")
    return None


def on_step_released(saga: SagaState, step: StepState, *, now: datetime, hold_id: int | None) -> Change:
    """Back to pending, to run at once; `hold_id` (the hold that let it go) lets it pass that hold."""
    held_at = getattr(step, "held_at", None) or now
    saga_changes: dict[str, Any] = {"attention_reason": "", "wake_at": now}
    if saga.deadline is not None:
        saga_changes["deadline"] = saga.deadline + (now - held_at)
    passes = list(getattr(step, "hold_passes", None) or ())
    if hold_id is not None and hold_id not in passes:
        passes.append(hold_id)
    detail = {"hold": getattr(step, "held_by", None), "held_seconds": round((now - held_at).total_seconds(), 3)}
    return Change(
        saga=saga_changes,
        step_index=step.index,
        step={"status": T.PENDING, "held_by": None, "held_at": None, "hold_passes": passes, "next_attempt_at": None},
        events=[Event(EventKind.STEP_RELEASED, step.name, detail)],
    )


# --- the operator's guards ---


def target_refusal(
    *, saga_type: str, step: str, participant: str, definitions: Sequence[SagaDefinition]
) -> Refusal | None:
    """A hold names an existing step of a registered type, or a participant some step declares.
    Choreographed types do not count: their services run the steps, so a hold could not stop them."""
    definitions = [d for d in definitions if not d.choreographed]
    if participant:
        if saga_type or step:
            return Refusal("name a step (saga_type and step) or a participant, not both", field="participant")
        if not any(s.participant == participant for d in definitions for s in d.steps):
            return Refusal(f"no registered step declares participant {participant!r}", field="participant")
        return None
    if not saga_type or not step:
        return Refusal("name a step (saga_type and step) or a participant", field="step" if saga_type else "saga_type")
    known = [d for d in definitions if d.name == saga_type]
    if not known:
        return Refusal(f"unknown saga type {saga_type!r}", field="saga_type")
    if not any(s.name == step for d in known for s in d.steps):
        return Refusal(f"saga type {saga_type} has no step {step!r}", field="step")
    return None


def can_release(hold: HoldState, rate: float) -> Refusal | None:
    if hold.status not in (ACTIVE, PAUSED, RELEASING):
        return Refusal(f"hold #{hold.id} is {hold.status}: nothing to release")
    if not 0 < rate <= MAX_RELEASE_RATE:
        return Refusal(f"rate must be more than 0 and at most {MAX_RELEASE_RATE:g} sagas per second")
    return None


def can_pause_release(hold: HoldState) -> Refusal | None:
    return None if hold.status == RELEASING else Refusal(f"hold #{hold.id} is {hold.status}, not releasing")


def can_cancel_release(hold: HoldState) -> Refusal | None:
    if hold.status not in (RELEASING, PAUSED):
        return Refusal(f"hold #{hold.id} is {hold.status}: no release to cancel")
    return None


def release_batch(rate: float) -> tuple[int, float]:
    """How many sagas one release tick lets go, and the seconds until the next tick: at most one
    tick a second, and at least one saga a tick, so a slow rate spaces out single sagas."""
    batch = max(1, int(rate))
    return batch, batch / rate


# --- the circuit breaker ---


def breaker_trips(buckets: Mapping[int, tuple[int, int]], policy: BreakerPolicy, *, now: float) -> bool:
    """`buckets`: {second: (attempts that succeeded, attempts that failed with a transient error)}."""
    since = now - policy.window
    ok = failed = 0
    for second, (good, bad) in buckets.items():
        if second >= since:
            ok, failed = ok + good, failed + bad
    return failed >= policy.min_failures and failed >= policy.failure_rate * (ok + failed)


def breaker_reason(buckets: Mapping[int, tuple[int, int]], policy: BreakerPolicy, *, now: float) -> str:
    recent = [v for k, v in buckets.items() if k >= now - policy.window]
    failed, total = sum(b for _, b in recent), sum(a + b for a, b in recent)
    return f"circuit breaker: {failed} of {total} attempts failed with a transient error in {policy.window:g} s"
