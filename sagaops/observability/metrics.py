"""Prometheus metrics: counters and histograms from the engine's transitions, gauges from the database.

Counters and histograms are incremented in whichever process commits a transition (a Celery
child, a gunicorn worker) and shared through prometheus_client's multiprocess mode: each process
writes its own files under PROMETHEUS_MULTIPROC_DIR and `/metrics` adds them up. The gauges are
read when Prometheus scrapes: one GROUP BY over the active sagas (a small partial index) and the
timer ZSET, so they agree with the console's dashboard at that moment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import timedelta

import redis
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from sagaops import mirror
from sagaops.conf import conf
from sagaops.definitions import registered_types
from sagaops.redis import get_redis

log = logging.getLogger(__name__)

SAGA = ["type"]
STEP = ["type", "step"]

sagas_started = Counter("sagaops_sagas_started", "Sagas started.", SAGA)
sagas_completed = Counter("sagaops_sagas_completed", "Sagas that completed.", SAGA)
sagas_compensated = Counter("sagaops_sagas_compensated", "Sagas that were fully compensated.", SAGA)
sagas_stuck = Counter("sagaops_sagas_stuck", "Times a saga became stuck (needs an operator).", SAGA)
steps_executed = Counter("sagaops_steps_executed", "Step attempts that finished, whatever their outcome.", STEP)
steps_failed = Counter("sagaops_steps_failed", "Steps that failed for good (no retry left, or not retryable).", STEP)
steps_retried = Counter("sagaops_steps_retried", "Step retries scheduled after a failed attempt.", STEP)
compensations_run = Counter("sagaops_compensations_run", "Step compensations that succeeded.", STEP)
compensations_failed = Counter("sagaops_compensations_failed", "Step compensations that exhausted their retries.", STEP)
compensations_retried = Counter("sagaops_compensations_retried", "Compensation retries scheduled.", STEP)
alerts = Counter(
    "sagaops_alerts", "Alerts delivered, or given up on after the last try.", ["kind", "channel", "outcome"]
)
operator_actions = Counter("sagaops_operator_actions", "Operator actions applied to sagas.", ["type", "action"])
step_duration = Histogram(
    "sagaops_step_duration_seconds",
    "Duration of one synchronous step attempt (action or compensation), checkpoint included.",
    ["type", "step", "phase"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
saga_duration = Histogram(
    "sagaops_saga_duration_seconds",
    "Time from a saga's start to its completion or full compensation.",
    ["type", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400),
)

_BY_SAGA = {
    "saga_started": sagas_started,
    "saga_completed": sagas_completed,
    "saga_compensated": sagas_compensated,
    "saga_stuck": sagas_stuck,
}
# event kind -> (counters, phase of the step duration it closes or None)
_BY_STEP = {
    "step_succeeded": ((steps_executed,), "action"),
    "step_retry_scheduled": ((steps_executed, steps_retried), "action"),
    "step_failed": ((steps_executed, steps_failed), "action"),
    "step_compensated": ((compensations_run,), "compensation"),
    "compensation_retry_scheduled": ((compensations_retried,), "compensation"),
    "compensation_failed": ((compensations_failed,), "compensation"),
}
_OUTCOMES = {"saga_completed": "completed", "saga_compensated": "compensated"}


def record_events(saga, events: Iterable) -> None:
    """Count one committed transition's events (called after commit, in the committing process)."""
    for event in events:
        kind = event.kind
        if kind in _BY_SAGA:
            _BY_SAGA[kind].labels(saga.type).inc()
            if kind in _OUTCOMES and saga.created_at:
                seconds = (timezone.now() - saga.created_at).total_seconds()
                saga_duration.labels(saga.type, _OUTCOMES[kind]).observe(max(seconds, 0.0))
        elif kind in _BY_STEP and event.step:
            counters, phase = _BY_STEP[kind]
            for counter in counters:
                counter.labels(saga.type, event.step).inc()
            if event.seconds is not None:
                step_duration.labels(saga.type, event.step, phase).observe(event.seconds)
        elif kind.startswith("operator_"):
            operator_actions.labels(saga.type, kind.removeprefix("operator_")).inc()


# --- read at scrape time ---

ACTIVE = ("pending", "running", "compensating", "stuck")
_STATES_SQL = """
    SELECT status, type, count(*),
           count(*) FILTER (WHERE status = 'stuck' OR updated_at < %s)
    FROM sagaops_saga
    WHERE status IN ('pending', 'running', 'compensating', 'stuck')
    GROUP BY status, type
"""


def saga_states() -> list[tuple[str, str, int, int]]:
    """(status, type, sagas, needing attention) for the sagas not yet finished: one query."""
    cutoff = timezone.now() - timedelta(seconds=conf.SAGAOPS_STUCK_AFTER)
    with connection.cursor() as cursor:
        cursor.execute(_STATES_SQL, [cutoff])
        return cursor.fetchall()


class SagaStateCollector:
    """Gauges computed when Prometheus scrapes: saga states, the timer backlog, stream groups."""

    def collect(self):
        yield from self._sagas()
        yield from self._timers()
        yield from self._streams()

    def _sagas(self):
        sagas = GaugeMetricFamily(
            "sagaops_sagas",
            "Sagas not yet finished, by status and type (from the database).",
            labels=["status", "type"],
        )
        attention = GaugeMetricFamily(
            "sagaops_sagas_needing_attention",
            "Sagas stuck, or active with no progress for SAGAOPS_STUCK_AFTER seconds (the console's stuck count).",
            labels=["type"],
        )
        try:
            rows = saga_states()
        except Exception:
            log.warning("metrics: could not count sagas by status", exc_info=True)
            return
        counts = {(status, type_): 0 for status in ACTIVE for type_ in registered_types()}
        needing: dict[str, int] = dict.fromkeys(registered_types(), 0)
        for status, type_, count, stuck in rows:
            counts[(status, type_)] = count
            needing[type_] = needing.get(type_, 0) + stuck
        for (status, type_), count in sorted(counts.items()):
            sagas.add_metric([status, type_], count)
        for type_, count in sorted(needing.items()):
            attention.add_metric([type_], count)
        yield sagas
        yield attention

    def _timers(self):
        try:
            armed, overdue = mirror.timer_backlog()
        except redis.RedisError:
            log.warning("metrics: could not read the timer backlog", exc_info=True)
            return
        yield GaugeMetricFamily("sagaops_timer_backlog", "Timers armed in the Redis ZSETs (sagaops:timers:{n}).", armed)
        yield GaugeMetricFamily(
            "sagaops_timer_oldest_overdue_seconds",
            "How long the oldest timer has been due without being taken (0 when none is due).",
            overdue or 0.0,
        )

    def _streams(self):
        streams = conf.SAGAOPS_METRICS_STREAMS
        if not streams:
            return
        length = GaugeMetricFamily("sagaops_stream_length", "Entries in a Redis stream.", labels=["stream"])
        pending = GaugeMetricFamily(
            "sagaops_stream_pending",
            "Entries delivered to a consumer group but not acknowledged.",
            labels=["stream", "group"],
        )
        lag = GaugeMetricFamily(
            "sagaops_stream_lag", "Entries a consumer group has not read yet.", labels=["stream", "group"]
        )
        client = get_redis()
        for stream in streams:
            try:
                length.add_metric([stream], client.xlen(stream))
                groups = client.xinfo_groups(stream)
            except redis.ResponseError:
                continue  # the stream does not exist (yet)
            except redis.RedisError:
                log.warning("metrics: could not read stream %s", stream, exc_info=True)
                return
            for group in groups:
                name = group["name"]
                pending.add_metric([stream, name], group["pending"])
                if group.get("lag") is not None:
                    lag.add_metric([stream, name], group["lag"])
        yield from (length, pending, lag)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def render() -> bytes:
    """The text exposition of every process's counters plus the scrape-time gauges."""
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(SagaStateCollector())
    if multiprocess_dir():
        counters = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    return generate_latest(counters) + generate_latest(gauges)


def mark_process_dead(pid: int) -> None:
    """A gunicorn or Celery child exited: drop its live-gauge files (its counters stay counted)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
