"""What the rules read of a saga and its steps: the models, or plain objects in the unit tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class StepState(Protocol):
    index: int
    name: str
    status: str
    attempts: int
    compensation_attempts: int
    next_attempt_at: datetime | None
    lease_expires_at: datetime | None
    outcome_unknown: bool
    result: Any
    last_error: str


class SagaState(Protocol):
    status: str
    deadline: datetime | None
    wake_at: datetime | None
    updated_at: datetime
    context: dict
