"""Bulk actions: when one may be paused, resumed or cancelled, and how fast it walks. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sagaops.rules.change import Refusal
from sagaops.rules.holds import MAX_RELEASE_RATE, release_batch

MAX_BULK_RATE = MAX_RELEASE_RATE
RUNNING, PAUSED, CANCELLED, DONE = "running", "paused", "cancelled", "done"


class BulkState(Protocol):
    status: str
    rate: float
    paced_from: datetime | None
    paced_count: int


def rate_refusal(rate: float) -> Refusal | None:
    if not 0 < rate <= MAX_BULK_RATE:
        return Refusal(f"rate must be more than 0 and at most {MAX_BULK_RATE:g} sagas per second")
    return None


def can_pause(bulk: BulkState) -> Refusal | None:
    return None if bulk.status == RUNNING else Refusal(f"the bulk action is {bulk.status}, not running")


def can_resume(bulk: BulkState) -> Refusal | None:
    return None if bulk.status == PAUSED else Refusal(f"the bulk action is {bulk.status}, not paused")


def can_cancel(bulk: BulkState) -> Refusal | None:
    if bulk.status in (CANCELLED, DONE):
        return Refusal(f"the bulk action is already {bulk.status}")
    return None


def batch_size(rate: float) -> int:
    """Sagas per tick: the hold release's pacing (about one tick a second)."""
    return release_batch(rate)[0]


def next_tick_due(bulk: BulkState, processed: int) -> datetime:
    """A token schedule: the n-th saga since the pace was set is due n / rate seconds after it,
    so the time a batch takes counts against its interval and the rate is never exceeded."""
    return bulk.paced_from + timedelta(seconds=(processed - bulk.paced_count) / bulk.rate)
