"""The forward rules: what claiming, finishing or failing a step changes. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sagaops.definitions import SagaDefinition, Step
from sagaops.exceptions import StepTimeout, WorkerLost
from sagaops.rules.change import Change, Event
from sagaops.rules.failures import Failure, failure_of
from sagaops.rules.kinds import AttentionCode, EventKind
from sagaops.rules.moves import DONE_FORWARD, SagaState, StepState, pivot_passed, unsettled_step
from sagaops.states import SagaStatus, StepStatus

T = StepStatus
# A lease outlives the step's own timeout, so the in-process alarm normally fires first.
LEASE_MARGIN = timedelta(seconds=5)


def lease_until(spec: Step, now: datetime) -> datetime:
    return now + timedelta(seconds=spec.timeout) + LEASE_MARGIN


def _running(saga: SagaState) -> dict[str, Any]:
    return {"status": SagaStatus.RUNNING} if saga.status == SagaStatus.PENDING else {}


def on_step_claimed(saga: SagaState, definition: SagaDefinition, step: StepState, *, now: datetime) -> Change:
    """An attempt starts: counted and leased in a commit of its own before the action runs, so an
    attempt that kills its worker is still counted (and a crash loop ends)."""
    attempt = step.attempts + 1
    lease = lease_until(definition.steps[step.index], now)
    return Change(
        saga={**_running(saga), "current_step": step.index, "wake_at": lease},
        step_index=step.index,
        step={
            "status": T.RUNNING,
            "attempts": attempt,
            "started_at": getattr(step, "started_at", None) or now,
            "lease_expires_at": lease,
            "next_attempt_at": None,
        },
        events=[Event(EventKind.STEP_STARTED, step.name, {"attempt": attempt})],
    )


def on_claim_released(step: StepState) -> Change:
    """A local run broke before its claimed step ran to an outcome: that attempt did not happen."""
    return Change(
        step_index=step.index,
        step={"status": T.PENDING, "attempts": max(step.attempts - 1, 0), "lease_expires_at": None},
    )


def on_step_waiting(step: StepState, command: Any) -> Change:
    return Change(
        step_index=step.index,
        step={"status": T.WAITING},
        events=[Event(EventKind.STEP_WAITING, step.name, {"command": command})],
    )


def on_step_succeeded(
    saga: SagaState,
    definition: SagaDefinition,
    steps: list[StepState],
    step: StepState,
    *,
    result: Any,
    attempts: int,
    now: datetime,
    events: tuple[Event, ...] = (),
    wake_at: datetime | None = None,
) -> Change:
    """`wake_at`: when to look again if the next advance is lost (default: the next step's lease,
    right for an executor that goes on at once)."""
    step_changes = {
        "status": T.SUCCEEDED,
        "attempts": attempts,
        "result": result,
        "started_at": getattr(step, "started_at", None) or now,
        "finished_at": now,
        "lease_expires_at": None,
        "next_attempt_at": None,
    }
    saga_changes = {**_running(saga), "current_step": step.index, **_search_keys_found(saga, definition, result)}
    events = [*events, Event(EventKind.STEP_SUCCEEDED, step.name, {"attempt": attempts})]
    last = all(s.status in DONE_FORWARD for s in steps if s.index != step.index)
    if saga.status == SagaStatus.RUNNING and last:
        # Fold the completion into this checkpoint: one commit instead of two.
        saga_changes.update(status=SagaStatus.COMPLETED, finished_at=now, wake_at=None)
        events.append(Event(EventKind.SAGA_COMPLETED))
    else:
        next_spec = definition.steps[min(step.index + 1, len(steps) - 1)]
        saga_changes["wake_at"] = wake_at or lease_until(next_spec, now)
    return Change(saga=saga_changes, step_index=step.index, step=step_changes, events=events)


def _search_keys_found(saga: SagaState, definition: SagaDefinition, result: Any) -> dict[str, Any]:
    """The declared search keys a step's result brings that the payload does not already hold."""
    if not definition.search_keys or not isinstance(result, dict):
        return {}
    payload, known = saga.context.get("payload", {}), getattr(saga, "search", None) or {}
    found = {
        key: result[key]
        for key in definition.search_keys
        if isinstance(result.get(key), str | int) and payload.get(key) != result[key] and known.get(key) != result[key]
    }
    return {"search": {**known, **found}} if found else {}


def on_step_failed(
    saga: SagaState,
    definition: SagaDefinition,
    steps: list[StepState],
    step: StepState,
    failure: Failure,
    *,
    attempts: int,
    now: datetime,
) -> Change:
    """Retry while the policy allows; then turn back before the pivot, or ask a human after it
    (and always when the step kept killing its worker: it needs a look before anything else)."""
    spec = definition.steps[step.index]
    # A local step's failure rolled its effect back. A remote or async step's failure only says
    # nothing happened when the participant refused it (a non-retryable business error); a
    # timeout, a lost reply or a transient error may hide an effect, so it is compensated too.
    # Once unknown, it stays unknown: a later refusal does not undo an earlier lost reply.
    remote = spec.kind != "local"
    unknown = step.outcome_unknown or (remote and (failure.retryable or failure.unanswered))
    base = {"attempts": attempts, "lease_expires_at": None, "outcome_unknown": unknown, **failure.fields()}
    detail = failure.detail(attempts)
    if failure.retryable and attempts < spec.retry.max_attempts:
        retry_at = now + timedelta(seconds=spec.retry.delay(attempts))
        return Change(
            saga={**_running(saga), "current_step": step.index, "wake_at": retry_at, "last_error": failure.message},
            step_index=step.index,
            step={**base, "status": T.PENDING, "next_attempt_at": retry_at},
            events=[Event(EventKind.STEP_RETRY_SCHEDULED, step.name, {**detail, "retry_at": retry_at.isoformat()})],
        )
    step_changes = {**base, "status": T.FAILED, "finished_at": now, "next_attempt_at": None}
    failed = Event(EventKind.STEP_FAILED, step.name, detail)
    if failure.worker_lost:
        reason = f"worker died while running {step.name} {attempts} times"
        return _stuck(saga, step, step_changes, failed, reason, AttentionCode.WORKER_LOST, failure)
    if not pivot_passed(definition, steps):
        return Change(
            saga={
                "status": SagaStatus.COMPENSATING,
                "current_step": step.index,
                "wake_at": now,
                "last_error": failure.message,
            },
            step_index=step.index,
            step=step_changes,
            events=[failed, Event(EventKind.COMPENSATION_STARTED, step.name, {"reason": f"step {step.name} failed"})],
        )
    reason = f"step {step.name} failed after {attempts} attempt(s) past the pivot: {failure.message}"
    return _stuck(saga, step, step_changes, failed, reason, AttentionCode.RETRIES_EXHAUSTED, failure)


def _stuck(saga, step, step_changes, failed: Event, reason: str, code: AttentionCode, failure: Failure) -> Change:
    return Change(
        saga={
            "status": SagaStatus.STUCK,
            "current_step": step.index,
            "wake_at": None,
            "last_error": failure.message,
            "attention_reason": reason,
            "attention_code": code,
        },
        step_index=step.index,
        step=step_changes,
        events=[failed, Event(EventKind.SAGA_STUCK, step.name, {"reason": reason, "code": code})],
    )


def on_lease_expired(
    saga: SagaState, definition: SagaDefinition, steps: list[StepState], step: StepState, *, now: datetime
) -> Change:
    """An attempt ended without an outcome. Running means its executor died mid-attempt (the
    in-process alarm would have recorded a timeout otherwise); waiting means no callback came."""
    spec = definition.steps[step.index]
    error = WorkerLost(step.name) if step.status == T.RUNNING else StepTimeout(step.name, spec.timeout)
    return on_step_failed(saga, definition, steps, step, failure_of(error, spec.retry), attempts=step.attempts, now=now)


def on_turn_back(steps: list[StepState], reason: str, *, now: datetime) -> Change:
    """Start compensating; a step that may have taken effect is compensated too."""
    step = unsettled_step(steps)
    return Change(
        saga={"status": SagaStatus.COMPENSATING, "wake_at": now, "last_error": reason},
        step_index=step.index if step else None,
        step={**abandoned(), "last_error": reason} if step else {},
        events=[Event(EventKind.COMPENSATION_STARTED, detail={"reason": reason})],
    )


def abandoned() -> dict[str, Any]:
    """What turning back does to the unsettled forward step: failed, its outcome unknown."""
    return {"status": T.FAILED, "outcome_unknown": True, "lease_expires_at": None, "next_attempt_at": None}


def on_finished(status: str, *, now: datetime) -> Change:
    kind = EventKind.SAGA_COMPLETED if status == SagaStatus.COMPLETED else EventKind.SAGA_COMPENSATED
    return Change(saga={"status": status, "finished_at": now, "wake_at": None}, events=[Event(kind)])
