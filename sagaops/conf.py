"""Every setting the engine reads, with its default: a host project sets only what it changes.

The engine reads its settings through `conf` (`conf.SAGAOPS_STUCK_AFTER`), never from
`django.conf.settings` directly, so a host without a `SAGAOPS_*` line gets the default below and
a test's `override_settings` still applies (each read goes to the settings of the moment).

`env_setting(name)` is for a project configured by environment variables (this repository's
`sagaops/settings.py`): the variable of the same name, parsed like the default, or the default.
README "Configuration" documents each one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Redis for the mirror, timers, locks and streams; unset: the host's REDIS_URL, then this.
    "SAGAOPS_REDIS_URL": "",
    # Fault injection spec ("payments.charge=error:0.2,orders.notify=hang"), off by default; with
    # FAULTS_FROM_REDIS a running worker also takes the spec `sagaops_demo --faults` writes.
    "SAGAOPS_FAULTS": "",
    "SAGAOPS_FAULTS_FROM_REDIS": False,
    # A new saga whose first advance was lost is started by its timer after this many seconds.
    "SAGAOPS_START_GRACE": 15.0,
    # An executor's Redis lock on a saga lives this long (seconds).
    "SAGAOPS_LOCK_TTL": 15.0,
    # A finished saga's Redis mirror is kept this long (seconds).
    "SAGAOPS_MIRROR_TTL": 86400,
    # The reconcile pass's period (seconds); it re-arms timers and heals the mirror over two periods.
    "SAGAOPS_RECONCILE_SECONDS": 30,
    # The heal looks at sagas created within this many seconds.
    "SAGAOPS_MIRROR_HEAL_CREATED_WITHIN": 900,
    # A status read trusts an unfinished mirror hash written within this many seconds.
    "SAGAOPS_MIRROR_TRUST_SECONDS": 5.0,
    # Timer sorted sets sagaops:timers:{0}..{N-1}.
    "SAGAOPS_TIMER_SHARDS": 16,
    # A tick pops due timers in batches of TICK_BATCH for at most TICK_BUDGET seconds.
    "SAGAOPS_TICK_BATCH": 500,
    "SAGAOPS_TICK_BUDGET": 5.0,
    # Beats hold a leader lease this long (seconds); another takes over within it.
    "SAGAOPS_BEAT_LEASE_SECONDS": 5.0,
    # Schedule periods of the beat entries (seconds), read by `sagaops.celery_config`.
    "SAGAOPS_PRUNE_SECONDS": 3600,
    "SAGAOPS_ALERT_CHECK_SECONDS": 30,
    "SAGAOPS_CHOREOGRAPHY_CHECK_SECONDS": 15,
    # Retention of finished sagas by final status: a duration ("30d", "12h") or "off".
    "SAGAOPS_RETENTION": {"completed": "30d", "compensated": "90d", "resolved": "90d"},
    "SAGAOPS_RETENTION_PROCESSED_EVENTS": "7d",
    "SAGAOPS_RETENTION_OUTBOX": "7d",
    "SAGAOPS_RETENTION_DEAD_LETTERS": "90d",
    "SAGAOPS_RETENTION_TOMBSTONES": "30d",
    "SAGAOPS_PRUNE_BATCH": 1000,
    "SAGAOPS_PRUNE_MAX_SECONDS": 600.0,
    # A directory where pruned sagas are archived as JSON lines; empty: no archive.
    "SAGAOPS_PRUNE_ARCHIVE_DIR": "",
    # The participants' own retention: dotted paths of callables(cutoff, batch, dry_run) -> rows.
    "SAGAOPS_RETENTION_HOOKS": [],
    # A step's traceback keeps its last N characters, an event's detail N bytes of JSON.
    "SAGAOPS_TRACEBACK_MAX": 4000,
    "SAGAOPS_EVENT_DETAIL_MAX": 2000,
    # An active saga with no progress for this long (seconds) is shown as stuck.
    "SAGAOPS_STUCK_AFTER": 300,
    # Health panel: heartbeat period and the limits past which a check is red.
    "SAGAOPS_WORKER_HEARTBEAT": 10.0,
    "SAGAOPS_HEALTH_TICK_LAG": 10.0,
    "SAGAOPS_HEALTH_RECONCILE_AGE": 120.0,
    "SAGAOPS_HEALTH_QUEUE_DEPTH": 1000,
    "SAGAOPS_HEALTH_STREAM_LAG": 1000,
    # Modules that register saga definitions besides each installed app's sagas.py.
    "SAGAOPS_SAGA_MODULES": [],
    # Largest API request body (bytes).
    "SAGAOPS_API_MAX_BODY_BYTES": 256 * 1024,
    # Console login throttling (django-axes, when the host uses it).
    "SAGAOPS_LOGIN_FAILURE_LIMIT": 5,
    "SAGAOPS_LOGIN_FAILURE_WINDOW": 900,
    # GET /metrics needs this bearer token when set.
    "SAGAOPS_METRICS_TOKEN": "",
    # OpenTelemetry export: "otlp" or "console" (the SDK's TracerProvider), empty: the host's own or none.
    "SAGAOPS_TRACE_EXPORTER": "",
    "SAGAOPS_SERVICE_NAME": "sagaops",
    "SAGAOPS_METRICS_STREAMS": [],
    # Where alerts link to.
    "SAGAOPS_CONSOLE_URL": "http://127.0.0.1:8000",
    "SAGAOPS_ALERT_RATE_LIMIT": 10,
    "SAGAOPS_ALERT_RATE_WINDOW": 300,
    "SAGAOPS_ALERT_MAX_ATTEMPTS": 5,
    "SAGAOPS_ALERT_RETRY_DELAY": 5.0,
    "SAGAOPS_ALERT_WEBHOOK_TIMEOUT": 5.0,
    "SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS": [],
    "SAGAOPS_ALERT_CATCH_UP_HOURS": 24,
    # Choreography streams and the supervisor.
    "SAGAOPS_STREAM_PREFIX": "sagaops:stream:",
    "SAGAOPS_STREAM_MAXLEN": 100000,
    "SAGAOPS_STREAM_CLAIM_IDLE_MS": 30000,
    "SAGAOPS_STREAM_MAX_DELIVERIES": 5,
    "SAGAOPS_CHOREOGRAPHY_OVERDUE": 120,
    "SAGAOPS_SUPERVISOR_ACK_TIMEOUT": 30.0,
    "SAGAOPS_SUPERVISOR_RETRY_DELAY": 2.0,
    "SAGAOPS_SUPERVISOR_MAX_ATTEMPTS": 3,
}

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"


class Conf:
    """`conf.SAGAOPS_X`: the host's setting, or the default; `conf.redis_url` for Redis."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"{name} is not a sagaops setting (sagaops.conf.DEFAULTS lists them)")
        return getattr(settings, name, DEFAULTS[name])

    @property
    def redis_url(self) -> str:
        return self.SAGAOPS_REDIS_URL or getattr(settings, "REDIS_URL", "") or DEFAULT_REDIS_URL


conf = Conf()


def _parse(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    try:
        return type(default)(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid {type(default).__name__}") from None


def env_setting(name: str, default: Any = None, environ: Mapping[str, str] = os.environ) -> Any:
    """The environment variable `name` parsed like the setting's default; unset, `default` or that default."""
    fallback = DEFAULTS[name] if default is None else default
    raw = environ.get(name)
    return fallback if raw is None else _parse(name, raw, fallback)
