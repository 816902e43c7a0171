"""The rules of child sagas: what recalling a child changes. Pure.

A ChildSaga step's compensation recalls its child: a child still under way, stuck, or already
completed turns back (a completed saga moves to compensating only this way, for its parent).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sagaops.rules.change import Change, Event
from sagaops.rules.forward import on_turn_back
from sagaops.rules.kinds import EventKind
from sagaops.rules.protocols import SagaState, StepState
from sagaops.states import SagaStatus

RECALLABLE = (SagaStatus.PENDING, SagaStatus.RUNNING, SagaStatus.STUCK, SagaStatus.COMPLETED)


def recall_change(child: SagaState, steps: Sequence[StepState], *, now: datetime) -> Change | None:
    """The child turns back for its compensating parent; None when it cannot (or need not)."""
    if child.status not in RECALLABLE:
        return None
    turn = on_turn_back(list(steps), "the parent saga is compensating", now=now)
    turn.saga.update(finished_at=None, attention_reason="", attention_code="")
    turn.events = [Event(EventKind.CHILD_RECALLED, detail={"from": child.status})]
    return turn
