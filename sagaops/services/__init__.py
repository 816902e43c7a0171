"""The engine's public services: the only code that writes saga state."""

from sagaops.services.callbacks import step_complete, step_fail
from sagaops.services.executor import saga_advance
from sagaops.services.start import saga_start

__all__ = ["saga_advance", "saga_start", "step_complete", "step_fail"]
