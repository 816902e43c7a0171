"""System health for the console: is anything running the sagas? One Check per signal, red with what to do.

Read from what the processes leave behind (worker heartbeats and last-run stamps in Redis, the
broker's queue lengths, the timer ZSET, the stream consumer groups) and from the partial index on
active sagas, so the panel costs a few milliseconds and never waits for a worker to answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import redis
from celery import current_app
from kombu.exceptions import KombuError

from sagaops import mirror
from sagaops.choreography import bus
from sagaops.conf import conf
from sagaops.console.heartbeat import Worker, last_run_key, live_workers
from sagaops.redis import get_redis
from sagaops.saga_types import saga_type_versions
from sagaops.states import ACTIVE_SAGA_STATUSES, SagaStatus

ACTIVE = (SagaStatus.PENDING, SagaStatus.RUNNING, SagaStatus.COMPENSATING, SagaStatus.STUCK)


@dataclass
class Check:
    key: str
    label: str
    ok: bool
    value: str
    todo: str = ""  # what to do when it is red
    rows: list[dict] = field(default_factory=list)  # details (one per worker, queue, group)


def _workers_check(workers: list[Worker]) -> Check:
    rows = [
        {
            "name": w.hostname,
            "value": f"beat {w.age:.0f} s ago, up {w.uptime / 60:.0f} min",
            "detail": ", ".join(f"{n} v{v}" for n, v in w.definitions) or "no definitions",
            "queues": ", ".join(w.queues),
        }
        for w in workers
    ]
    return Check(
        "workers",
        "Celery workers alive",
        bool(workers),
        str(len(workers)),
        ""
        if workers
        else "No worker has sent a heartbeat: nothing executes steps. Start one: "
        "celery -A <project> worker (make run starts one), then check its log.",
        rows,
    )


def unknown_versions(workers: list[Worker]) -> list[tuple[str, int, int]]:
    """(type, version, active sagas) of the versions no live worker serves (`saga_type_versions`,
    the same judgement `GET /api/saga-types/` shows)."""
    return [
        (v["type"], v["version"], sum(n for status, n in v["in_flight"].items() if status in ACTIVE_SAGA_STATUSES))
        for v in saga_type_versions(workers)
        if v["unserved"]
    ]


def _versions_check(workers: list[Worker]) -> Check:
    missing = unknown_versions(workers) if workers else []
    rows = [
        {"name": f"{t} v{v}", "value": f"{n} active saga(s)", "detail": "no live worker knows it"}
        for t, v, n in missing
    ]
    return Check(
        "versions",
        "Definitions known to a worker",
        not missing,
        "all known" if not missing else f"{len(missing)} unknown",
        ""
        if not missing
        else "Active sagas use a definition version no live worker registered: they cannot "
        "advance. Deploy a worker that still has that version (keep old versions registered until their sagas finish).",
        rows,
    )


def queue_depths(queues: list[str]) -> dict[str, int | None]:
    depths: dict[str, int | None] = {}
    with current_app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
        channel = conn.default_channel
        for name in queues:
            try:
                depths[name] = channel.queue_declare(queue=name, passive=True).message_count
            except Exception:  # noqa: BLE001 - a queue nobody declared yet is an empty queue
                depths[name] = 0
                channel = conn.channel()
    return depths


def _queues_check(workers: list[Worker]) -> Check:
    names = sorted({current_app.conf.task_default_queue, *(q for w in workers for q in w.queues)})
    try:
        depths = queue_depths(names)
    except (KombuError, OSError) as error:
        return Check("queues", "Queue depth", False, "broker unreachable", f"Start the broker: {error}")
    limit = conf.SAGAOPS_HEALTH_QUEUE_DEPTH
    deep = [n for n, d in depths.items() if d and d > limit]
    rows = [{"name": n, "value": f"{d} message(s)", "detail": ""} for n, d in depths.items()]
    return Check(
        "queues",
        "Queue depth",
        not deep,
        ", ".join(f"{n}: {d}" for n, d in depths.items()),
        ""
        if not deep
        else f"More than {limit} messages waiting on {', '.join(deep)}: workers cannot keep up "
        "(or none consumes that queue). Add workers or check they consume it.",
        rows,
    )


def _age(client, name: str) -> float | None:
    stamp = client.get(last_run_key(name))
    return None if stamp is None else max(0.0, time.time() - float(stamp))


def _tick_check(client) -> Check:
    age = _age(client, "tick")
    limit = conf.SAGAOPS_HEALTH_TICK_LAG
    ok = age is not None and age <= limit
    return Check(
        "tick",
        "Last timer tick",
        ok,
        "never" if age is None else f"{age:.1f} s ago",
        ""
        if ok
        else f"The timer tick has not run for more than {limit:.0f} s: retries, leases and deadlines "
        "do not fire. Check celery beat is running (celery -A <project> beat) and a worker consumes its tasks.",
    )


def _backlog_check(client) -> Check:
    armed, overdue = mirror.timer_backlog()
    limit = conf.SAGAOPS_HEALTH_TICK_LAG
    due = mirror.timers_due_count(time.time())
    ok = not overdue or overdue <= limit
    return Check(
        "timers",
        "Due timers",
        ok,
        f"{due} due of {armed} armed" + (f", oldest {overdue:.1f} s late" if overdue else ""),
        "" if ok else "Timers are overdue: the tick is not keeping up or not running. Check beat and the workers.",
    )


def _reconcile_check(client, workers: list[Worker]) -> Check:
    age = _age(client, "reconcile")
    limit = conf.SAGAOPS_HEALTH_RECONCILE_AGE
    # Right after a start the first reconcile is still to come: not a problem yet.
    starting = age is None and workers and all(w.uptime < limit for w in workers)
    ok = bool(starting) or (age is not None and age <= limit)
    return Check(
        "reconcile",
        "Last reconcile",
        ok,
        "never" if age is None else f"{age:.0f} s ago",
        ""
        if ok
        else f"The reconcile pass has not run for more than {limit:.0f} s: timers Redis lost are not "
        "re-armed. Check celery beat is running.",
    )


def _streams_check(client) -> Check:
    rows = []
    limit = conf.SAGAOPS_HEALTH_STREAM_LAG
    bad = False
    for group in bus.groups():
        for stream in bus.streams_of(group):
            key = bus.stream_key(stream)
            try:
                info = {g["name"]: g for g in client.xinfo_groups(key)}
            except redis.ResponseError:
                info = {}  # the stream does not exist yet: nothing published
            found = info.get(group)
            lag = (found or {}).get("lag") or 0
            pending = (found or {}).get("pending") or 0
            bad = bad or lag > limit or pending > limit
            rows.append({"name": f"{stream} / {group}", "value": f"lag {lag}, pending {pending}", "detail": ""})
    return Check(
        "streams",
        "Stream consumers",
        not bad,
        f"{len(rows)} group(s)",
        ""
        if not bad
        else f"A consumer group is over {limit} entries behind or pending: start the consumers "
        "(manage.py sagaops_consume all) or look at their log for a failing handler.",
        rows,
    )


def system_health() -> list[Check]:
    client = get_redis()
    try:
        workers = live_workers(client)
        checks = [_workers_check(workers), _versions_check(workers), _queues_check(workers)]
        checks += [
            _tick_check(client),
            _backlog_check(client),
            _reconcile_check(client, workers),
            _streams_check(client),
        ]
    except redis.RedisError as error:
        return [Check("redis", "Redis", False, "unreachable", f"Start Redis ({conf.redis_url}): {error}")]
    return checks


# --- measures for the alert rules (sagaops.observability.alerts): None when it cannot be told ---


def seconds_without_worker() -> float | None:
    """0 while a worker is alive; else seconds since the last heartbeat (None if none was ever seen)."""
    client = get_redis()
    if live_workers(client):
        return 0.0
    return _age(client, "worker")


def tick_lag() -> float | None:
    return _age(get_redis(), "tick")
