"""The timer sweep and the repairs that make Redis rebuildable from PostgreSQL.

- `timers_drain`: the tick; pops due timers from every shard until none is due or its time
  budget is spent, and hands them over in batches.
- `timers_reconcile`: re-arms the timers falling due within two periods, read from an index
  range of SagaWake (proportional to what is due, not to every active saga), and rewrites those
  sagas' mirrors where they lag the database.
- `mirrors_heal`: finds the recently finished sagas whose mirror hash is older than the
  database (a final write lost after its commit) and rewrites them.
- `mirror_rebuild`: the operator's full repair, in batches.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from sagaops import mirror
from sagaops.conf import conf
from sagaops.models import Saga, SagaWake
from sagaops.states import ACTIVE_SAGA_STATUSES, FINISHED_SAGA_STATUSES, SagaStatus

log = logging.getLogger(__name__)

BATCH = 1000
UNFINISHED = (*ACTIVE_SAGA_STATUSES, SagaStatus.STUCK)

# The newest LOG_MAXLEN events of each saga of a batch, oldest first: one query per batch.
_RECENT_EVENTS = """
SELECT saga_id, kind, step, version FROM (
    SELECT saga_id, id, kind, step, version,
           row_number() OVER (PARTITION BY saga_id ORDER BY id DESC) AS newest
    FROM sagaops_sagaevent WHERE saga_id = ANY(%s)
) recent
WHERE newest <= %s
ORDER BY saga_id, id
"""


def timers_drain(
    *,
    enqueue: Callable[[list[str]], None],
    on_backlog: Callable[[], None] | None = None,
    budget: float | None = None,
    batch: int | None = None,
) -> int:
    """Pop due timers until none is due or `budget` seconds have passed; returns how many.

    `enqueue` receives each batch of saga ids. If it fails, the batch goes back on its timers
    (due now) before the error propagates, so a broker outage loses no timer. `on_backlog` is
    called once, at the first full batch: the tick calls in another tick to drain beside it.
    """
    budget = conf.SAGAOPS_TICK_BUDGET if budget is None else budget
    batch = batch or conf.SAGAOPS_TICK_BATCH
    deadline = time.monotonic() + budget
    # Concurrent ticks start on different shards, so they rarely contend for the same one.
    first = random.randrange(conf.SAGAOPS_TIMER_SHARDS)
    drained = 0
    for due in mirror.timers_due_iter(limit=batch, deadline=deadline, first_shard=first):
        try:
            enqueue(due)
        except Exception:
            mirror.timers_set_many(dict.fromkeys(due, time.time()))
            raise
        drained += len(due)
        if on_backlog is not None and len(due) == batch:
            on_backlog()
            on_backlog = None
    return drained


def timers_reconcile(*, horizon_seconds: float | None = None) -> int:
    """Re-arm the timers that fall due within the horizon (Redis may have lost them); how many.

    A timer due later is re-armed by a later pass, before it is due: each pass reads only the
    index range [-inf, now + horizon] of SagaWake. The mirror of each of those sagas is checked
    on the way (one pipelined read per batch) and rewritten when it lags the database.
    """
    horizon = conf.SAGAOPS_RECONCILE_SECONDS * 2 if horizon_seconds is None else horizon_seconds
    until = timezone.now() + timedelta(seconds=horizon)
    rows = SagaWake.objects.filter(wake_at__lte=until).order_by().values_list("saga_id", "wake_at")
    armed = 0
    for chunk in _chunks(rows.iterator(chunk_size=BATCH), BATCH):
        mirror.timers_set_many({str(i): wake_at.timestamp() for i, wake_at in chunk}, only_earlier=True)
        armed += len(chunk)
        _heal_lagging([i for i, _ in chunk])
    return armed


def _heal_lagging(saga_ids: list) -> None:
    # The versions by primary key, not by a join: joined, the planner hashes the whole saga table.
    versions = dict(Saga.objects.filter(pk__in=saga_ids).values_list("pk", "version"))
    mirrored = mirror.read_versions(saga_ids)
    lagging = [
        i for i, seen in zip(saga_ids, mirrored, strict=True) if i in versions and (seen is None or seen < versions[i])
    ]
    if lagging:
        log.warning("healing the Redis mirror of %d active saga(s) that lagged the database", len(lagging))
        _publish_batch(list(Saga.objects.filter(pk__in=lagging).defer("context")))


def timers_rearm_all() -> int:
    """Re-arm every active saga's timer, however far ahead (the rebuild command)."""
    mirror.legacy_timers_drop()
    armed = 0
    rows = SagaWake.objects.order_by().values_list("saga_id", "wake_at")
    for chunk in _chunks(rows.iterator(chunk_size=BATCH), BATCH):
        mirror.timers_set_many({str(i): wake_at.timestamp() for i, wake_at in chunk})
        armed += len(chunk)
    return armed


def mirrors_heal(*, changed_within: float | None = None) -> int:
    """Rewrite the mirror of recently finished sagas whose hash is older than the database.

    A final mirror write lost after its commit (Redis down, the process killed) would otherwise
    leave the hash unfinished, without a TTL, forever: nothing moves a finished saga again. Reads
    the sagas that finished within the window among those created in the last
    SAGAOPS_MIRROR_HEAL_CREATED_WITHIN seconds (an index range of `saga_newest_first`). Active
    sagas are checked by `timers_reconcile` as they fall due; stuck ones by the status read and
    the rebuild command. Returns how many mirrors were rewritten.
    """
    window = conf.SAGAOPS_RECONCILE_SECONDS * 2 if changed_within is None else changed_within
    now = timezone.now()
    finished = Saga.objects.filter(
        created_at__gte=now - timedelta(seconds=conf.SAGAOPS_MIRROR_HEAL_CREATED_WITHIN),
        status__in=FINISHED_SAGA_STATUSES,
        finished_at__gte=now - timedelta(seconds=window),
    )
    # A plain query, not a server-side cursor: the result is small (finished within the window),
    # and a cursor's plan favours the first rows over the whole range.
    recent = list(finished.order_by().values_list("pk", "version"))
    healed = 0
    for chunk in _chunks(recent, BATCH):
        ids = [pk for pk, _ in chunk]
        mirrored = mirror.read_versions(ids)
        stale = [pk for (pk, version), seen in zip(chunk, mirrored, strict=True) if seen is None or seen < version]
        if stale:
            log.warning("healing the Redis mirror of %d finished saga(s) that lagged the database", len(stale))
            _publish_batch(list(Saga.objects.filter(pk__in=stale).defer("context")))
        healed += len(stale)
    return healed


def mirror_rebuild(*, include_finished: bool = False) -> int:
    """Write sagas' hashes, recent logs and timers back to Redis, in batches. Returns how many.

    By default: every unfinished saga, and every finished saga whose mirror hash was left at an
    unfinished state (no TTL: its final write was lost). With include_finished: every saga.
    """
    sagas = Saga.objects.all() if include_finished else Saga.objects.filter(status__in=UNFINISHED)
    count = 0
    for chunk in _chunks(sagas.defer("context").order_by().iterator(chunk_size=BATCH), BATCH):
        _publish_batch(chunk)
        count += len(chunk)
    if not include_finished:
        count += _repair_unexpired_finished()
    return count


def _repair_unexpired_finished() -> int:
    """Mirror hashes without a TTL whose saga has finished (or is gone): rewrite or delete them."""
    repaired = 0
    for ids in _chunks(mirror.saga_keys_scan(), BATCH):
        persisted = [i for i, ttl in zip(ids, mirror.read_ttls(ids), strict=True) if ttl == -1]
        if not persisted:
            continue
        sagas = {str(s.pk): s for s in Saga.objects.filter(pk__in=_valid_ids(persisted)).defer("context")}
        finished = [s for s in sagas.values() if s.status in FINISHED_SAGA_STATUSES]
        _publish_batch(finished)
        mirror.delete_many([i for i in persisted if i not in sagas])  # pruned or deleted sagas
        repaired += len(finished)
    return repaired


def _valid_ids(ids: list[str]) -> list[str]:
    """The ids that are UUIDs (a key that is not cannot be a saga of this database)."""
    valid = []
    for saga_id in ids:
        try:
            valid.append(str(uuid.UUID(saga_id)))
        except ValueError:
            continue
    return valid


def _publish_batch(sagas: list[Saga]) -> None:
    if not sagas:
        return
    events: dict[str, list[dict]] = {str(s.pk): [] for s in sagas}
    with connection.cursor() as cursor:
        cursor.execute(_RECENT_EVENTS, [[s.pk for s in sagas], mirror.LOG_MAXLEN])
        for saga_id, kind, step, version in cursor.fetchall():
            events[str(saga_id)].append({"k": kind, "s": step, "v": version})
    items = []
    for saga in sagas:
        active = saga.status in ACTIVE_SAGA_STATUSES
        finished = saga.status in FINISHED_SAGA_STATUSES
        items.append((saga, events[str(saga.pk)], finished, saga.wake_at if active else None))
    mirror.publish_many(items, repair=True)


def _chunks(items: Iterable, size: int) -> Iterable[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
