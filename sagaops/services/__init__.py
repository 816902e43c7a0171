"""The engine's public services: the only code that writes saga state."""

from sagaops.services.callbacks import step_complete, step_fail
from sagaops.services.executor import saga_advance
from sagaops.services.operators import (
    branch_retry,
    compensation_mark_done,
    saga_compensate,
    saga_resolve,
    saga_retry,
    saga_retry_compensation,
    step_complete_by_hand,
    step_result_edit,
    step_skip,
)
from sagaops.services.start import saga_start

__all__ = [
    "branch_retry",
    "compensation_mark_done",
    "saga_advance",
    "saga_compensate",
    "saga_resolve",
    "saga_retry",
    "saga_retry_compensation",
    "saga_start",
    "step_complete",
    "step_complete_by_hand",
    "step_fail",
    "step_result_edit",
    "step_skip",
]
