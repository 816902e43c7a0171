"""Callbacks of async steps: a service reports that the command it was sent succeeded or failed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sagaops.exceptions import ActionRefused, ConcurrentUpdate, SagaError
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.services.executor import Executor, to_json
from sagaops.services.transitions import Event, enqueue_advance_task
from sagaops.states import IN_FLIGHT_STEP_STATUSES, StepStatus

# The executor may be recording "waiting" at the moment a fast callback arrives: try again.
FENCE_RETRIES = 5


class ReportedFailure(SagaError):
    """A failure a service reported for its async step."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


def step_complete(*, saga_id, step_name: str, result: Any, actor: str = "") -> str:
    """Mark a waiting async step succeeded. Returns "completed", or "duplicate" for a replay."""
    result = to_json(result)
    for _ in range(FENCE_RETRIES):
        executor, step = _load(saga_id, step_name)
        if step.status == StepStatus.SUCCEEDED and step.result == result:
            return "duplicate"
        _require_in_flight(executor, step)
        try:
            with transaction.atomic():
                executor.step_succeeded(
                    step,
                    result,
                    attempts=step.attempts,
                    events=[
                        Event("callback_received", step.name, {"outcome": "complete"}, SagaEvent.Actor.SERVICE, actor)
                    ],
                )
                _enqueue_advance(executor.saga)
            return "completed"
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate("the saga kept changing; try the callback again", executor.saga.status)


def step_fail(*, saga_id, step_name: str, error: str, retryable: bool = True, actor: str = "") -> str:
    """Record a reported failure of an async step; the step's retry policy decides what follows."""
    for _ in range(FENCE_RETRIES):
        executor, step = _load(saga_id, step_name)
        if step.status not in IN_FLIGHT_STEP_STATUSES and step.last_error == error:
            return "duplicate"
        _require_in_flight(executor, step)
        try:
            with transaction.atomic():
                executor.step_failed(step, ReportedFailure(error, retryable), attempts=step.attempts)
                _enqueue_advance(executor.saga)
            return "failed"
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate("the saga kept changing; try the callback again", executor.saga.status)


def _load(saga_id, step_name: str) -> tuple[Executor, SagaStep]:
    saga = Saga.objects.get(pk=saga_id)
    steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
    step = next((s for s in steps if s.name == step_name), None)
    if step is None:
        raise ActionRefused(f"saga {saga.pk} has no step {step_name!r}", saga.status)
    return Executor(saga, steps), step


def _require_in_flight(executor: Executor, step: SagaStep) -> None:
    if executor.step_def(step).kind != "async":
        raise ActionRefused(f"step {step.name} is not an async step; it takes no callbacks", step.status)
    if step.status not in IN_FLIGHT_STEP_STATUSES:
        raise ActionRefused(f"step {step.name} is {step.status}, not waiting for a callback", step.status)


def _enqueue_advance(saga: Saga) -> None:
    transaction.on_commit(lambda: enqueue_advance_task(saga.pk))
