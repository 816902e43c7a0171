"""How an attempt's failure is classified: may it be retried, may it have taken effect."""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from sagaops.definitions import RetryPolicy
from sagaops.exceptions import StepTimeout, WorkerLost

# Bounded, so a huge error message cannot bloat the saga and step rows (the traceback is bounded
# where it is written: sagaops.services.bounds, SAGAOPS_TRACEBACK_MAX).
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Failure:
    message: str
    type_name: str
    traceback: str
    retryable: bool
    # The attempt ended without an answer (a timeout, a lost worker): whatever the policy says
    # about retrying, a remote effect may exist and must be compensated if the saga turns back.
    unanswered: bool
    worker_lost: bool

    def fields(self) -> dict[str, str]:
        return {"last_error": self.message, "last_error_type": self.type_name, "last_traceback": self.traceback}

    def detail(self, attempt: int) -> dict:
        return {"attempt": attempt, "error": self.message, "error_type": self.type_name}


def failure_of(error: BaseException, policy: RetryPolicy) -> Failure:
    error = root_cause(error)
    kind = type(error)
    return Failure(
        message=(str(error) or kind.__name__)[:MAX_ERROR_CHARS],
        type_name=f"{kind.__module__}.{kind.__qualname__}",
        traceback="".join(traceback.format_exception(error)),
        retryable=policy.is_retryable(error) and getattr(error, "retryable", True),
        unanswered=isinstance(error, StepTimeout | WorkerLost),
        worker_lost=isinstance(error, WorkerLost),
    )


def root_cause(error: BaseException) -> BaseException:
    """A timeout that interrupts a query surfaces as the database error it caused (and then as
    Django's "can't execute queries" error): record the timeout, which is what happened."""
    seen, depth = error, 0
    while seen is not None and depth < 20:  # bounded: a chain can, rarely, loop
        if isinstance(seen, StepTimeout | WorkerLost):
            return seen
        seen, depth = seen.__cause__ or seen.__context__, depth + 1
    return error
