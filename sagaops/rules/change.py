"""What a rule returns: one change for `transition()` to write under the fence, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sagaops.rules.kinds import SYSTEM, MoveKind


@dataclass(frozen=True)
class Move:
    kind: MoveKind
    index: int | None = None
    until: datetime | None = None
    reason: str = ""
    # Run this local step in a transaction of its own, not with the ready steps after it: it is
    # run again after a lost worker, and a crash of the next one must not be blamed on it.
    alone: bool = False
    # HOLD: the hold that keeps the step from starting.
    hold_id: int | None = None
    # FORK / FORK_COMPENSATION: the branch steps to start, one task each.
    indexes: tuple[int, ...] = ()


IDLE = Move(MoveKind.IDLE)


@dataclass
class Event:
    """One timeline row to append with a transition."""

    kind: str
    step: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    actor_type: str = SYSTEM
    actor: str = ""
    reason: str = ""
    user_id: int | None = None
    # How long the step's attempt ran (for metrics); not stored on the timeline.
    seconds: float | None = field(default=None, compare=False)
    # The saga version the transition wrote (set by `transition`).
    version: int | None = field(default=None, compare=False)


@dataclass
class Change:
    """Saga fields, at most one step's fields, and the events: written together or not at all."""

    saga: dict[str, Any] = field(default_factory=dict)
    step_index: int | None = None
    step: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class Refusal:
    """Why an action cannot be taken in the saga's present state (shown to the operator as is)."""

    message: str
    # True when waiting may help (an attempt is in flight); False when the state forbids it.
    transient: bool = False
    # The input field the refusal is about, when it is about one (the API answers 400 naming it).
    field: str = ""
