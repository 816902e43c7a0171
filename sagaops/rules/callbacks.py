"""The callback rules: what an async step's service may report, and what its report changes. Pure.

A callback names the attempt it answers (`ctx.attempt`, given to the action). A success for an
earlier attempt is still this step's success (every attempt uses the same idempotency key), so it
is adopted while the step has not settled otherwise; a failure for an earlier attempt is a replay
or a late echo and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sagaops.definitions import SagaDefinition
from sagaops.exceptions import ReportedFailure
from sagaops.rules.change import Change, Event, Refusal
from sagaops.rules.failures import failure_of
from sagaops.rules.forward import on_step_failed, on_step_succeeded
from sagaops.rules.kinds import SERVICE, EventKind
from sagaops.rules.moves import IN_FLIGHT, SagaState, StepState
from sagaops.states import SagaStatus, StepStatus

# After a callback the service enqueues the next advance at once; if that advance is lost, the
# saga's timer runs it after this long (not after the next step's whole lease).
CALLBACK_WAKE = timedelta(seconds=5)

DUPLICATE = None  # what a rule returns for a replay: nothing to change


def _not_waiting(step: StepState) -> Refusal:
    return Refusal(f"step {step.name} is {step.status}, not waiting for a callback")


def _common_refusal(definition: SagaDefinition, step: StepState, attempt: int | None) -> Refusal | None:
    if definition.steps[step.index].kind != "async":
        return Refusal(f"step {step.name} is not an async step; it takes no callbacks")
    if attempt is not None and attempt > step.attempts:
        return Refusal(f"attempt {attempt} of step {step.name} has not started (it is at attempt {step.attempts})")
    return None


def on_callback_complete(
    saga: SagaState,
    definition: SagaDefinition,
    steps: list[StepState],
    step: StepState,
    *,
    result: Any,
    attempt: int | None,
    actor: str,
    now: datetime,
) -> Change | Refusal | None:
    refusal = _common_refusal(definition, step, attempt)
    if refusal is not None:
        return refusal
    if step.status == StepStatus.SUCCEEDED:
        return DUPLICATE if step.result == result else _not_waiting(step)
    # In flight, or waiting for a retry after an attempt that timed out or failed transiently.
    adoptable = step.status in IN_FLIGHT or (step.status == StepStatus.PENDING and step.attempts > 0)
    if saga.status != SagaStatus.RUNNING or not adoptable:
        return _not_waiting(step)
    detail = {"outcome": "complete", "attempt": attempt or step.attempts}
    if step.status == StepStatus.PENDING:
        detail["late"] = True  # it answers an attempt whose lease had run out
    received = Event(EventKind.CALLBACK_RECEIVED, step.name, detail, SERVICE, actor)
    return on_step_succeeded(
        saga,
        definition,
        steps,
        step,
        result=result,
        attempts=step.attempts,
        now=now,
        events=(received,),
        wake_at=now + CALLBACK_WAKE,
    )


def on_callback_fail(
    saga: SagaState,
    definition: SagaDefinition,
    steps: list[StepState],
    step: StepState,
    *,
    error: str,
    retryable: bool,
    attempt: int | None,
    actor: str,
    now: datetime,
) -> Change | Refusal | None:
    refusal = _common_refusal(definition, step, attempt)
    if refusal is not None:
        return refusal
    if attempt is not None and attempt < step.attempts:
        return DUPLICATE  # an earlier attempt's failure: that attempt is already settled
    if step.status not in IN_FLIGHT:
        return DUPLICATE if step.last_error == error else _not_waiting(step)
    if saga.status != SagaStatus.RUNNING:
        return _not_waiting(step)
    failure = failure_of(ReportedFailure(error, retryable), definition.steps[step.index].retry)
    change = on_step_failed(saga, definition, steps, step, failure, attempts=step.attempts, now=now)
    detail = {"outcome": "fail", "attempt": attempt or step.attempts}
    change.events.insert(0, Event(EventKind.CALLBACK_RECEIVED, step.name, detail, SERVICE, actor))
    return change
