"""Every Redis key sagaops writes, each built by one function here (README "Redis layout").

Keys of one saga share the hash tag `{<saga id>}`, so they live in one Redis Cluster slot; the
timers are sharded (`sagaops:timers:{<shard>}`), each shard its own slot. Stream names carry the
configurable prefix SAGAOPS_STREAM_PREFIX. Django's cache (django-redis, prefix from the host's
CACHES) and Celery's broker keys are not named here: they belong to those libraries.
"""

from __future__ import annotations

from sagaops.conf import conf

TIMERS_PREFIX = "sagaops:timers"
# The single timer ZSET of releases before the shards; `sagaops_rebuild_mirror` deletes it.
LEGACY_TIMERS_KEY = "sagaops:timers"
# The beat leader lease (sagaops/beat.py).
BEAT_LEADER_KEY = "sagaops:beat:leader"
# Fault injection: the spec `sagaops_demo --faults` writes, and the per-fault call counters.
FAULTS_KEY = "sagaops:faults"
FAULT_CALLS_KEY = "sagaops:faults:calls"
WORKER_PREFIX = "sagaops:worker:"
LAST_RUN_PREFIX = "sagaops:health:last:"


def saga_key(saga_id) -> str:
    """HASH: the saga's status mirror."""
    return f"saga:{{{saga_id}}}"


SAGA_KEY_PATTERN = "saga:{*}"


def saga_id_of(key: str) -> str | None:
    """The saga id of a mirror hash's key (`saga:{<id>}`), None for any other key."""
    prefix, suffix = "saga:{", "}"
    if key.startswith(prefix) and key.endswith(suffix):
        return key[len(prefix) : -len(suffix)]
    return None


def log_key(saga_id) -> str:
    """LIST (capped): the saga's recent events."""
    return f"saga:{{{saga_id}}}:log"


def document_key(saga_id) -> str:
    """STRING: the API's cached saga document."""
    return f"saga:{{{saga_id}}}:doc"


def lock_key(saga_id) -> str:
    """STRING, SET NX PX: the executor's fast-path lock."""
    return f"lock:saga:{{{saga_id}}}"


def timer_key(shard: int) -> str:
    """ZSET: due time -> saga id, one per shard (the braces are the shard's Cluster hash tag)."""
    return f"{TIMERS_PREFIX}:{{{shard}}}"


def breaker_key(saga_type: str, step: str) -> str:
    """HASH: a step's circuit breaker counts per second."""
    return f"sagaops:breaker:{{{saga_type}:{step}}}"


def idempotency_key(user_id, scope: str, digest: str) -> str:
    """STRING: an API answer replayed for a repeated Idempotency-Key."""
    return f"sagaops:api:idem:{user_id}:{scope}:{digest}"


def worker_key(hostname: str) -> str:
    """STRING with a TTL: a worker's heartbeat."""
    return f"{WORKER_PREFIX}{hostname}"


def last_run_key(name: str) -> str:
    """STRING: when a beat-driven task (tick, reconcile) last ran."""
    return f"{LAST_RUN_PREFIX}{name}"


def stream_key(name: str) -> str:
    """STREAM: a choreography stream (events, reports, dead, errors:<group>)."""
    return f"{conf.SAGAOPS_STREAM_PREFIX}{name}"


def errors_key(group: str) -> str:
    """STREAM: what a consumer group could not handle."""
    return stream_key(f"errors:{group}")
