"""The scale benchmark (`make bench-scale`): storage per saga, HOT updates, prune, tick, reconcile, rebuild.

1. A sample of real sagas of the checkout's shape runs in this process: the saga table's update
   counters (pg_stat_user_tables) give the share of HOT updates.
2. The sample's rows are cloned into N sagas (new ids, created over the last 60 days; some turned
   into active sagas with timers over the next hour, some stuck): what a real day leaves behind.
   The tables' growth (heap, indexes, TOAST) divided by N is the storage per finished saga.
3. The mirror rebuilt from nothing (`--all`: every saga), timed.
4. A steady reconcile pass (re-arm due timers, heal stale mirrors) over that mirror, then one
   right after Redis lost everything, timed.
5. T due timers drained by real `tick` tasks on a real worker that consumes only the timers queue
   (2 processes, ticks sent every second as beat does), timed until every shard is empty.
6. `sagaops_prune --older-than 30d`, timed.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bench import flows
from bench.runner import BenchError, Worker, check_isolated
from sagaops import keys, mirror
from sagaops.choreography.models import DeadLetter, OutboxEvent, ProcessedEvent
from sagaops.models import Saga, SagaEvent, SagaStep, SagaWake
from sagaops.redis import get_redis
from sagaops.retention import retention_prune
from sagaops.services import saga_advance, saga_start
from sagaops.services.timers import mirror_rebuild, mirrors_heal, timers_reconcile
from sagaops.states import ACTIVE_SAGA_STATUSES

PER = 100_000
TABLES = ("sagaops_saga", "sagaops_sagastep", "sagaops_sagaevent", "sagaops_sagawake")
TARGETS = {"hot": 50.0, "indexes": 6, "drain": 5000.0, "rebuild": 60.0}

# N clones of the sample's sagas, created at random over the last 60 days; steps and events follow.
# Rows go in in creation order, as a real day writes them: old sagas share pages, as they would.
_CLONE = """
CREATE TEMP TABLE bench_map ON COMMIT DROP AS
SELECT s.id AS old_id, md5(s.id::text || ':' || g)::uuid AS new_id,
       now() - random() * interval '60 days' AS created, s.created_at AS old_created
FROM (SELECT id, created_at, row_number() OVER (ORDER BY id) AS n FROM sagaops_saga) s
CROSS JOIN generate_series(1, %(copies)s) g
WHERE (g - 1) * %(sample)s + s.n <= %(sagas)s;

INSERT INTO sagaops_saga (id, type, definition_version, status, current_step, context, idempotency_key,
    request_hash, correlation_id, version, created_at, updated_at, finished_at, deadline, wake_at,
    last_error, attention_reason, attention_code, search, parent_step)
SELECT m.new_id, s.type, s.definition_version, s.status, s.current_step, s.context, NULL, s.request_hash,
       'bench:' || m.new_id, s.version, m.created, m.created + (s.updated_at - s.created_at),
       m.created + (s.finished_at - s.created_at), m.created + (s.deadline - s.created_at), NULL,
       s.last_error, s.attention_reason, s.attention_code, s.search, s.parent_step
FROM bench_map m JOIN sagaops_saga s ON s.id = m.old_id
ORDER BY m.created;

INSERT INTO sagaops_sagastep (saga_id, index, name, status, attempts, compensation_attempts, lease_expires_at,
    next_attempt_at, outcome_unknown, result, last_error, last_error_type, last_traceback, started_at, finished_at,
    hold_passes)
SELECT m.new_id, st.index, st.name, st.status, st.attempts, st.compensation_attempts, NULL, NULL,
       st.outcome_unknown, st.result, st.last_error, st.last_error_type, st.last_traceback,
       m.created + (st.started_at - m.old_created), m.created + (st.finished_at - m.old_created), '[]'::jsonb
FROM bench_map m JOIN sagaops_sagastep st ON st.saga_id = m.old_id
ORDER BY m.created, st.index;

INSERT INTO sagaops_sagaevent (saga_id, at, kind, step, detail, actor_type, actor, user_id, reason, version)
SELECT m.new_id, m.created + (e.at - m.old_created), e.kind, e.step, e.detail, e.actor_type, e.actor,
       e.user_id, e.reason, e.version
FROM bench_map m JOIN sagaops_sagaevent e ON e.saga_id = m.old_id
ORDER BY m.created, e.id;
"""

# Some clones become today's active sagas (timers over the next hour, a few overdue) or stuck ones.
_ACTIVATE = """
UPDATE sagaops_saga SET status = 'running', finished_at = NULL, created_at = now() - random() * interval '1 hour',
       wake_at = now() + (random() * 3660 - 60) * interval '1 second'
WHERE id IN (SELECT id FROM sagaops_saga WHERE correlation_id LIKE 'bench:%%' LIMIT %(active)s);
UPDATE sagaops_saga SET status = 'stuck', finished_at = NULL, attention_reason = 'step failed after 5 attempt(s)'
WHERE id IN (SELECT id FROM sagaops_saga WHERE correlation_id LIKE 'bench:%%' AND status <> 'running'
             LIMIT %(stuck)s);
"""


def run_scale_benchmark(
    *, sagas: int, sample: int, active: int, timers: int, write: Callable[[str], None]
) -> dict[str, float]:
    check_isolated()
    if "scale" not in settings.DATABASES["default"]["NAME"]:
        raise BenchError("run the scale benchmark on its own database (sagaops_bench_scale): `make bench-scale`")
    _reset()
    write(f"sagaops scale benchmark: {sagas} sagas ({active} active, {sagas // 200} stuck), {timers} due timers")
    write(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {_server_version()}")
    figures: dict[str, float] = {}
    figures["hot"] = _sample(sample, write)
    figures["bytes"] = _seed(sagas, sample, active, write)
    figures["rebuild_s"] = _rebuild(write)
    figures["reconcile_ms"] = _reconcile(active, write)
    figures["drain"] = _drain(timers, write)
    figures["prune_s"] = _prune(write)
    figures["indexes"] = _saga_indexes()
    _report(figures, write)
    return figures


def _server_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}, Redis {get_redis().info('server')['redis_version']}"


def _reset() -> None:
    tables = [m._meta.db_table for m in (SagaEvent, SagaStep, Saga, SagaWake, ProcessedEvent, OutboxEvent, DeadLetter)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    _clear_mirror()
    _clear_broker()


# Redis databases are all taken (development, tests, soak, bench): the run deletes only the keys
# the engine writes in its mirror database, and only its own (prefixed) keys on the broker.
MIRROR_PATTERNS = ("saga:{*", "lock:saga:{*", f"{keys.TIMERS_PREFIX}:*")


def _clear_mirror() -> None:
    client = get_redis()
    for pattern in MIRROR_PATTERNS:
        batch = []
        for key in client.scan_iter(match=pattern, count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)


def _clear_broker() -> int:
    """Delete the run's broker keys; returns how many advances were waiting on the default queue."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    if not prefix:
        raise BenchError("set CELERY_BROKER_KEYPREFIX so the run can tell its broker keys apart: `make bench-scale`")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        queued = broker.llen(f"{prefix}celery")
        keys = list(broker.scan_iter(match=f"{prefix}*", count=5000))
        for start in range(0, len(keys), 5000):
            broker.unlink(*keys[start : start + 5000])
        return queued
    finally:
        broker.close()


def _stat(sql: str, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _updates() -> tuple[int, int]:
    # Statistics reach the shared counters when a backend flushes them: force ours first.
    _stat("SELECT pg_stat_force_next_flush()")
    _stat("SELECT pg_stat_clear_snapshot()")
    [(updates, hot)] = _stat("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'sagaops_saga'")
    return updates, hot


def _sample(sample: int, write) -> float:
    """Run `sample` real sagas here (one in 20 declined, so it compensates); the HOT share of their updates."""
    before = _updates()
    started = time.perf_counter()
    for i in range(sample):
        saga, _ = saga_start(saga_type=flows.CHECKOUT_LIKE, payload={"order_id": i, "decline": i % 20 == 0})
        for _ in range(20):
            saga_advance(saga_id=saga.pk)
            saga.refresh_from_db(fields=["status", "wake_at"])
            if saga.status not in ACTIVE_SAGA_STATUSES:
                break
            if saga.wake_at and saga.wake_at > timezone.now():  # a retry's backoff
                time.sleep(min(1.0, (saga.wake_at - timezone.now()).total_seconds()))
    elapsed = time.perf_counter() - started
    time.sleep(0.1)
    after = _updates()
    updates, hot = after[0] - before[0], after[1] - before[1]
    share = 100.0 * hot / updates if updates else 0.0
    write(f"sample: {sample} sagas of 5 steps in {elapsed:.1f} s; {updates} saga-row updates, {hot} HOT")
    return share


_SIZES = """
SELECT t, pg_table_size(t::regclass), pg_indexes_size(t::regclass) FROM unnest(%s::text[]) t
"""


def _sizes() -> dict[str, tuple[int, int]]:
    """{table: (heap with TOAST, indexes)} in bytes."""
    return {table: (heap, indexes) for table, heap, indexes in _stat(_SIZES, [list(TABLES)])}


def _seed(sagas: int, sample: int, active: int, write) -> float:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sagaops_saga")
    before = _sizes()
    started = time.perf_counter()
    copies = -(-sagas // sample)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLONE, {"copies": copies, "sample": sample, "sagas": sagas})
    after = _sizes()
    grown = {t: (after[t][0] - before[t][0], after[t][1] - before[t][1]) for t in TABLES}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_ACTIVATE, {"active": active, "stuck": sagas // 200})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sagaops_saga")
        cursor.execute("VACUUM ANALYZE sagaops_sagawake")
    write(f"seeded {sagas} sagas (clones of the sample's rows) in {time.perf_counter() - started:.1f} s")
    for table, (heap, indexes) in grown.items():
        write(f"  {table:20} heap {heap / sagas:7.0f} B/saga   indexes {indexes / sagas:7.0f} B/saga")
    return sum(heap + indexes for heap, indexes in grown.values()) / sagas


def _reconcile(active: int, write) -> float:
    """Two passes: a steady one over the whole mirror the rebuild left (what every period costs,
    the headline figure), then one right after Redis lost everything (every due timer and mirror
    rewritten)."""
    horizon = settings.SAGAOPS_RECONCILE_SECONDS * 2
    due = SagaWake.objects.filter(wake_at__lte=timezone.now() + timedelta(seconds=horizon)).count()
    passes = []
    for lose_redis in (False, True):
        if lose_redis:
            _clear_mirror()
        started = time.perf_counter()
        armed = timers_reconcile()
        healed = mirrors_heal()
        passes.append(((time.perf_counter() - started) * 1000, armed, healed))
    _clear_mirror()  # keep the mirror's memory out of the later steps
    (steady_ms, _, _), (lost_ms, armed, healed) = passes
    write(
        f"reconcile over {active} active sagas ({due} due within {horizon} s): steady pass {steady_ms:.1f} ms; "
        f"after losing Redis {lost_ms:.1f} ms ({armed} re-armed and their mirrors rewritten, "
        f"{healed} finished mirrors healed)"
    )
    return steady_ms * PER / max(active, 1)


def _rebuild(write) -> float:
    _clear_mirror()
    total = Saga.objects.count()
    started = time.perf_counter()
    rebuilt = mirror_rebuild(include_finished=True)
    elapsed = time.perf_counter() - started
    write(f"rebuild mirror --all: {rebuilt} sagas in {elapsed:.1f} s")
    return elapsed * PER / max(total, 1)


def _drain(timers: int, write) -> float:
    from sagaops.tasks import tick

    _clear_broker()  # the sample's advances
    now = time.time()
    for start in range(0, timers, 10_000):
        ids = [f"bench-timer-{i}" for i in range(start, min(timers, start + 10_000))]
        mirror.timers_set_many(dict.fromkeys(ids, now - 1))
    worker = Worker(concurrency=2, queues="sagaops.timers")
    worker.start()
    stop = threading.Event()

    def beat() -> None:  # as `celery beat` does: a tick every second
        while not stop.is_set():
            tick.apply_async()
            stop.wait(1.0)

    try:
        started = time.perf_counter()
        tick.apply_async()
        threading.Thread(target=beat, daemon=True).start()
        deadline = started + 600
        while mirror.timer_backlog()[0] and time.perf_counter() < deadline:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        worker.stop()
    queued = _clear_broker()
    left = mirror.timer_backlog()[0]
    _clear_mirror()
    write(
        f"tick drain: {timers - left} of {timers} due timers popped and enqueued as advances in {elapsed:.2f} s "
        f"by 1 worker x 2 processes on the timers queue ({queued} advances on the broker)"
    )
    return (timers - left) / elapsed if elapsed else 0.0


def _prune(write) -> float:
    started = time.perf_counter()
    report = retention_prune(older_than=timedelta(days=30), batch=settings.SAGAOPS_PRUNE_BATCH, max_seconds=3600)
    elapsed = time.perf_counter() - started
    pruned = sum(report.sagas.values())
    write(f"prune --older-than 30d: {pruned} sagas, {report.steps} steps, {report.events} events in {elapsed:.1f} s")
    return elapsed * PER / max(pruned, 1)


def _saga_indexes() -> int:
    return _stat("SELECT count(*) FROM pg_indexes WHERE tablename = 'sagaops_saga'")[0][0]


def _report(f: dict[str, float], write) -> None:
    write("")
    write(f"bytes per finished saga (heap+indexes): {f['bytes']:.0f} B")
    write(f"prune: {f['prune_s']:.1f} s per 100k")
    write(f"tick drain: {f['drain']:.0f} timers/s")
    write(f"reconcile: {f['reconcile_ms']:.1f} ms per 100k active")
    write(f"rebuild mirror: {f['rebuild_s']:.1f} s per 100k")
    write(f"HOT updates: {f['hot']:.1f} %")
    write(f"saga indexes: {f['indexes']}")
    write("")
    write("targets")
    checks = [
        ("HOT updates on the saga table >= 50 %", f"{f['hot']:.1f} %", f["hot"] >= TARGETS["hot"]),
        ("indexes on the saga table <= 6", f"{f['indexes']}", f["indexes"] <= TARGETS["indexes"]),
        ("tick drain >= 5000 timers/s", f"{f['drain']:.0f}/s", f["drain"] >= TARGETS["drain"]),
        ("rebuild mirror of 100k sagas < 60 s", f"{f['rebuild_s']:.1f} s", f["rebuild_s"] < TARGETS["rebuild"]),
    ]
    for label, value, met in checks:
        write(f"  {label:45} {value:>10}   {'met' if met else 'NOT MET'}")
