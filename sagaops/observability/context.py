"""The ids every log line carries: saga, correlation, step and attempt, held in contextvars.

The executor binds the saga around a run and the step around each move; the correlation
middleware binds the correlation id of a request; Celery tasks bind the saga they were given.
The same scopes open the run's and the step's trace spans (`sagaops.observability.tracing`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from sagaops.observability import tracing


@dataclass(frozen=True)
class LogContext:
    saga_id: str = ""
    correlation_id: str = ""
    step: str = ""
    attempt: int | None = None
    # When the current step's move began (time.monotonic()): the step duration histogram.
    step_started: float | None = None


EMPTY = LogContext()
_current: ContextVar[LogContext] = ContextVar("sagaops_log_context", default=EMPTY)


def current() -> LogContext:
    return _current.get()


@contextmanager
def bound(**changes) -> Iterator[LogContext]:
    """Bind some ids for the duration of the block; the previous ids come back afterwards."""
    context = replace(_current.get(), **changes)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


@contextmanager
def saga_scope(saga) -> Iterator[LogContext]:
    correlation_id = saga.correlation_id or current().correlation_id
    with bound(saga_id=str(saga.pk), correlation_id=correlation_id) as context, tracing.run_span(saga):
        yield context


# A move on a step, and which counter gives its attempt number (the one this move will make).
_ATTEMPT_OF_MOVE = {
    "run": ("attempts", 1),
    "expire": ("attempts", 0),
    "compensate": ("compensation_attempts", 1),
    "expire_comp": ("compensation_attempts", 0),
}


@contextmanager
def step_scope(saga, steps, move) -> Iterator[LogContext]:
    """Bind the saga and, for a move on a step, the step and its attempt."""
    index = getattr(move, "index", None)
    attempt_of = _ATTEMPT_OF_MOVE.get(move.kind)
    if attempt_of is None or index is None or not 0 <= index < len(steps):
        with saga_scope(saga) as context:
            yield context
        return
    step = steps[index]
    field, offset = attempt_of
    # An expiry only records a timeout: it starts no attempt, so it has no duration.
    started = time.monotonic() if offset else None
    attempt = getattr(step, field) + offset
    with (
        saga_scope(saga),
        bound(step=step.name, attempt=attempt, step_started=started),
        tracing.step_span(saga, step.name, move.kind, attempt),
    ):
        yield current()


def outgoing_headers() -> dict[str, str]:
    """Headers a remote step sends so the participant's logs and traces join the saga's:
    X-Correlation-ID, and the W3C `traceparent` of the step's span."""
    context = current()
    headers = {"X-Correlation-ID": context.correlation_id} if context.correlation_id else {}
    return {**headers, **tracing.trace_carrier()}


def bind_saga_id(saga_id) -> None:
    """Bind the saga for the rest of the enclosing `bound()` block, which restores the ids when it ends."""
    _current.set(replace(_current.get(), saga_id=str(saga_id)))
