"""The compensation rules: claiming, finishing or failing a step's compensation. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from sagaops.definitions import SagaDefinition
from sagaops.exceptions import WorkerLost
from sagaops.rules.change import Change, Event
from sagaops.rules.failures import Failure, failure_of
from sagaops.rules.forward import LEASE_MARGIN, lease_until
from sagaops.rules.kinds import AttentionCode, EventKind
from sagaops.rules.moves import StepState, needs_compensation
from sagaops.states import SagaStatus, StepStatus

T = StepStatus


def on_compensation_claimed(definition: SagaDefinition, step: StepState, *, now: datetime) -> Change:
    """A compensation attempt starts, counted and leased in its own commit (see on_step_claimed)."""
    attempt = step.compensation_attempts + 1
    lease = lease_until(definition.steps[step.index], now)
    return Change(
        saga={"current_step": step.index, "wake_at": lease},
        step_index=step.index,
        step={
            "status": T.COMPENSATING,
            "compensation_attempts": attempt,
            "lease_expires_at": lease,
            "next_attempt_at": None,
        },
        events=[Event(EventKind.COMPENSATION_STEP_STARTED, step.name, {"attempt": attempt})],
    )


def on_compensation_succeeded(
    definition: SagaDefinition, steps: list[StepState], step: StepState, *, attempts: int, now: datetime
) -> Change:
    step_changes = {
        "status": T.COMPENSATED,
        "compensation_attempts": attempts,
        "lease_expires_at": None,
        "next_attempt_at": None,
        "finished_at": now,
    }
    events = [Event(EventKind.STEP_COMPENSATED, step.name, {"attempt": attempts})]
    saga_changes = {"current_step": step.index, "wake_at": now + LEASE_MARGIN}
    if not any(s.index != step.index and needs_compensation(definition, s) for s in steps):
        saga_changes.update(status=SagaStatus.COMPENSATED, finished_at=now, wake_at=None)
        events.append(Event(EventKind.SAGA_COMPENSATED))
    return Change(saga=saga_changes, step_index=step.index, step=step_changes, events=events)


def on_compensation_failed(
    definition: SagaDefinition, step: StepState, failure: Failure, *, attempts: int, now: datetime
) -> Change:
    policy = definition.steps[step.index].compensation_retry
    base = {"compensation_attempts": attempts, "lease_expires_at": None, **failure.fields()}
    detail = failure.detail(attempts)
    if failure.retryable and attempts < policy.max_attempts:
        retry_at = now + timedelta(seconds=policy.delay(attempts))
        return Change(
            saga={"wake_at": retry_at, "last_error": failure.message},
            step_index=step.index,
            step={**base, "status": T.COMPENSATING, "next_attempt_at": retry_at},
            events=[
                Event(EventKind.COMPENSATION_RETRY_SCHEDULED, step.name, {**detail, "retry_at": retry_at.isoformat()})
            ],
        )
    if failure.worker_lost:
        reason, code = f"worker died while compensating {step.name} {attempts} times", AttentionCode.WORKER_LOST
    else:
        reason = f"compensation of step {step.name} failed after {attempts} attempt(s): {failure.message}"
        code = AttentionCode.COMPENSATION_FAILED
    return Change(
        saga={
            "status": SagaStatus.STUCK,
            "wake_at": None,
            "last_error": failure.message,
            "attention_reason": reason,
            "attention_code": code,
        },
        step_index=step.index,
        step={**base, "status": T.COMPENSATION_FAILED, "next_attempt_at": None},
        events=[
            Event(EventKind.COMPENSATION_FAILED, step.name, detail),
            Event(EventKind.SAGA_STUCK, step.name, {"reason": reason, "code": code}),
        ],
    )


def on_compensation_lease_expired(definition: SagaDefinition, step: StepState, *, now: datetime) -> Change:
    """A claimed compensation ended without an outcome: its executor died mid-attempt (the
    in-process alarm would have recorded a timeout otherwise)."""
    spec = definition.steps[step.index]
    failure = failure_of(WorkerLost(f"{step.name} compensation"), spec.compensation_retry)
    return on_compensation_failed(definition, step, failure, attempts=step.compensation_attempts, now=now)
