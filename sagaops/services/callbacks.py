"""Callbacks of async steps: a service reports that the command it was sent succeeded or failed.

`sagaops.rules.callbacks` decides what a callback may do; this module loads, asks, and writes.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from sagaops import rules
from sagaops.definitions import get_definition
from sagaops.exceptions import ActionRefused, ConcurrentUpdate
from sagaops.models import Saga, SagaStep
from sagaops.services.executor import to_json
from sagaops.services.transitions import apply_change

# The executor may be recording "waiting" at the moment a fast callback arrives: try again.
FENCE_RETRIES = 5


def step_complete(*, saga_id, step_name: str, result: Any, attempt: int | None = None, actor: str = "") -> str:
    """Mark an async step succeeded. Returns "completed", or "duplicate" for a replay."""
    result = to_json(result)

    def decide(saga, definition, steps, step):
        return rules.on_callback_complete(
            saga, definition, steps, step, result=result, attempt=attempt, actor=actor, now=timezone.now()
        )

    return _apply(saga_id, step_name, decide, "completed")


def step_fail(
    *, saga_id, step_name: str, error: str, retryable: bool = True, attempt: int | None = None, actor: str = ""
) -> str:
    """Record a reported failure of an async step; the step's retry policy decides what follows.
    Returns "failed", or "duplicate" for a replay (or a failure of an attempt already settled)."""

    def decide(saga, definition, steps, step):
        return rules.on_callback_fail(
            saga,
            definition,
            steps,
            step,
            error=error,
            retryable=retryable,
            attempt=attempt,
            actor=actor,
            now=timezone.now(),
        )

    return _apply(saga_id, step_name, decide, "failed")


def _apply(saga_id, step_name: str, decide, outcome: str) -> str:
    for _ in range(FENCE_RETRIES):
        saga = Saga.objects.get(pk=saga_id)
        steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
        step = next((s for s in steps if s.name == step_name), None)
        if step is None:
            raise ActionRefused(f"saga {saga.pk} has no step {step_name!r}", saga.status)
        change = decide(saga, get_definition(saga.type, saga.definition_version), steps, step)
        if change is rules.DUPLICATE:
            return "duplicate"
        if isinstance(change, rules.Refusal):
            raise ActionRefused(change.message, step.status)
        try:
            with transaction.atomic():
                apply_change(saga, steps, change, enqueue_advance=True)
            return outcome
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate("the saga kept changing; try the callback again", saga.status)
