"""Plain objects standing in for a saga and its steps in the rules' unit tests (no database)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeStep:
    index: int
    status: str = "pending"
    name: str = ""
    attempts: int = 0
    compensation_attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_expires_at: datetime | None = None
    outcome_unknown: bool = False
    result: Any = None
    last_error: str = ""
    started_at: datetime | None = None
    held_by: int | None = None
    held_at: datetime | None = None
    hold_passes: list = field(default_factory=list)


@dataclass
class FakeHold:
    id: int = 1
    saga_type: str = ""
    step: str = ""
    participant: str = ""
    status: str = "active"
    reason: str = "provider outage"


@dataclass
class FakeSaga:
    status: str = "running"
    deadline: datetime | None = None
    wake_at: datetime | None = None
    updated_at: datetime = NOW
    context: dict = field(default_factory=lambda: {"payload": {"n": 1}})


def steps_of(definition, *statuses, **overrides) -> list[FakeStep]:
    """One fake step per status, named after the definition's steps; overrides: {name: {field: value}}."""
    made = [FakeStep(i, status, definition.steps[i].name) for i, status in enumerate(statuses)]
    for step in made:
        for name, value in overrides.get(step.name, {}).items():
            setattr(step, name, value)
    return made
