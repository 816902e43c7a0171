"""The timer sweep and the repairs that make Redis rebuildable from PostgreSQL."""

from __future__ import annotations

import logging

from sagaops import mirror
from sagaops.models import Saga, SagaEvent
from sagaops.states import ACTIVE_SAGA_STATUSES, FINISHED_SAGA_STATUSES

log = logging.getLogger(__name__)

BATCH = 1000


def timers_due() -> list[str]:
    """Pop the sagas whose timer is due; the caller enqueues an advance for each."""
    return mirror.timers_pop_due()


def timers_reconcile() -> int:
    """Re-arm every active saga's timer from the database (Redis may have lost it). Returns how many."""
    armed = 0
    batch: dict[str, float] = {}
    rows = Saga.objects.filter(status__in=ACTIVE_SAGA_STATUSES, wake_at__isnull=False).values_list("id", "wake_at")
    for saga_id, wake_at in rows.iterator(chunk_size=BATCH):
        batch[str(saga_id)] = wake_at.timestamp()
        if len(batch) >= BATCH:
            mirror.timers_set_many(batch)
            armed += len(batch)
            batch = {}
    mirror.timers_set_many(batch)
    return armed + len(batch)


def mirror_rebuild(*, include_finished: bool = False) -> int:
    """Write every (active, or all) saga's hash and recent log back to Redis. Returns how many."""
    sagas = Saga.objects.all() if include_finished else Saga.objects.filter(status__in=[*ACTIVE_SAGA_STATUSES, "stuck"])
    count = 0
    for saga in sagas.iterator(chunk_size=BATCH):
        events = SagaEvent.objects.filter(saga=saga).order_by("-id")[: mirror.LOG_MAXLEN]
        compact = [{"k": e.kind, "s": e.step, "v": e.version} for e in reversed(events)]
        active = saga.status in ACTIVE_SAGA_STATUSES
        mirror.publish(
            saga, compact, finished=saga.status in FINISHED_SAGA_STATUSES, wake_at=saga.wake_at if active else None
        )
        count += 1
    return count
