"""Child sagas in the DSL: a step that runs another saga and takes its result.

    ChildSaga("ship", saga_type="shipping.create", payload=lambda ctx: {"order": ctx.payload["order_id"]})

The step starts the child once (its idempotency key is derived from the parent and the step, so
a redelivery finds the same child), waits for the child's end, and succeeds with the child's
results when it completes, or fails (with nothing to undo) when it is compensated. A parent that
turns back after the child completed compensates the child and waits until it is compensated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from sagaops.definitions import RetryPolicy, Step, StepContext
from sagaops.services.children import child_recall, child_start

# A compensating parent looks again until its child is compensated: up to about five minutes.
RECALL_RETRY = RetryPolicy(max_attempts=60, initial_delay=0.5, backoff=1.5, max_delay=5.0)
# When the child's end has not reached the parent within the timeout, look again: a retry starts
# nothing new (the same key) and answers at once if the child has finished meanwhile.
LOOK_AGAIN = RetryPolicy(max_attempts=3, initial_delay=1.0, backoff=2.0)


def ChildSaga(  # noqa: N802 (a DSL element, spelled like Step and Parallel)
    name: str,
    *,
    saga_type: str,
    payload: Callable[[StepContext], dict[str, Any]],
    timeout: timedelta | float = timedelta(minutes=10),
    retry: RetryPolicy = LOOK_AGAIN,
    recall_retry: RetryPolicy = RECALL_RETRY,
) -> Step:
    """A step that runs a `saga_type` saga as its child. `timeout`: how long to wait for the
    child's end before looking again (`retry` says how often)."""
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    return Step(
        name,
        partial(child_start, saga_type=saga_type, payload=payload),
        compensation=child_recall,
        kind="async",
        retry=retry,
        compensation_retry=recall_retry,
        timeout=seconds,
        child_type=saga_type,
        breaker=None,
    )
