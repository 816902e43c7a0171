"""The Redis side of a saga: the status mirror, the event log, the timers and the executor lock.

Keys use a hash tag (`saga:{<id>}`) so one saga's keys share a Redis Cluster slot. Redis holds
nothing that cannot be rebuilt from PostgreSQL: `sagaops_rebuild_mirror` and the reconcile pass do.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime

import redis
from django.conf import settings

from sagaops.redis import get_redis

log = logging.getLogger(__name__)

TIMERS_KEY = "sagaops:timers"
LOG_MAXLEN = 50

# Newer version wins: a late write from an older transition never overwrites a newer one.
# The log is a capped LIST, not a STREAM: Redis 7 preallocates 4 KB for a stream's first node,
# which would make every saga's mirror cost ~5 KB instead of ~0.6 KB. A log left as a stream by
# an older release is replaced (the database holds the full timeline).
_PUBLISH = f"""
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
local nfields = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + nfields * 2))
if #ARGV >= 4 + nfields * 2 then
  if redis.call('TYPE', KEYS[2])['ok'] == 'stream' then redis.call('DEL', KEYS[2]) end
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 4 + nfields * 2, #ARGV))
  redis.call('LTRIM', KEYS[2], -{LOG_MAXLEN}, -1)
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
else
  redis.call('PERSIST', KEYS[1])
end
return 1
"""

# Pop every timer that is due, atomically, so two ticks never both take the same one.
_POP_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
"""

_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def saga_key(saga_id) -> str:
    return f"saga:{{{saga_id}}}"


def log_key(saga_id) -> str:
    return f"saga:{{{saga_id}}}:log"


def lock_key(saga_id) -> str:
    return f"lock:saga:{{{saga_id}}}"


class _Scripts:
    def __init__(self) -> None:
        self._client = None

    def load(self, client: redis.Redis) -> None:
        if self._client is not client:
            self.publish = client.register_script(_PUBLISH)
            self.pop_due = client.register_script(_POP_DUE)
            self.release = client.register_script(_RELEASE_LOCK)
            self._client = client


_scripts = _Scripts()


def _client() -> redis.Redis:
    client = get_redis()
    _scripts.load(client)
    return client


def mirror_fields(saga) -> dict[str, str]:
    return {
        "status": saga.status,
        "current_step": str(saga.current_step),
        "type": saga.type,
        "version": str(saga.version),
        "updated_at": saga.updated_at.isoformat() if saga.updated_at else "",
        "correlation_id": saga.correlation_id,
        "last_error": saga.last_error[:500],
        "attention_reason": saga.attention_reason[:500],
    }


def publish(saga, events: Iterable[dict] = (), *, finished: bool = False, wake_at: datetime | None = None) -> None:
    """Write the saga's new state to the mirror, append its events, and set or clear its timer.

    Called after commit. A Redis failure here is logged, not raised: the database already holds
    the truth, and the reconcile pass re-arms the timer.
    """
    fields = mirror_fields(saga)
    flat = [item for pair in fields.items() for item in pair]
    encoded = [json.dumps(e, separators=(",", ":"), default=str) for e in events]
    ttl = settings.SAGAOPS_MIRROR_TTL if finished else 0
    keys = [saga_key(saga.id), log_key(saga.id)]
    args = [saga.version, ttl, len(fields), *flat, *encoded]
    try:
        client = _client()
        # EVALSHA straight into the pipeline: a Script object there would first ask SCRIPT EXISTS,
        # one more round trip on every transition.
        pipe = client.pipeline(transaction=False)
        pipe.evalsha(_scripts.publish.sha, len(keys), *keys, *args)
        if wake_at is not None:
            pipe.zadd(TIMERS_KEY, {str(saga.id): wake_at.timestamp()})
        elif finished or saga.status == "stuck":
            pipe.zrem(TIMERS_KEY, str(saga.id))
        replies = pipe.execute(raise_on_error=False)
        if isinstance(replies[0], redis.exceptions.NoScriptError):  # Redis restarted: load and run it
            _scripts.publish(keys=keys, args=args, client=client)
        for reply in replies:
            if isinstance(reply, redis.RedisError) and not isinstance(reply, redis.exceptions.NoScriptError):
                raise reply
    except redis.RedisError:
        log.warning("mirror write failed for saga %s; the reconcile pass will repair it", saga.id, exc_info=True)


def read(saga_id) -> dict[str, str]:
    return _client().hgetall(saga_key(saga_id))


def read_log(saga_id, count: int = LOG_MAXLEN) -> list[dict]:
    return [json.loads(entry) for entry in _client().lrange(log_key(saga_id), 0, count - 1)]


def timer_set(saga_id, when: datetime) -> None:
    _client().zadd(TIMERS_KEY, {str(saga_id): when.timestamp()})


def timers_set_many(items: dict[str, float]) -> None:
    if items:
        _client().zadd(TIMERS_KEY, items)


def timers_pop_due(limit: int = 500) -> list[str]:
    client = _client()
    return _scripts.pop_due(keys=[TIMERS_KEY], args=[time.time(), limit], client=client)


def timer_backlog() -> tuple[int, float | None]:
    """(timers armed, seconds the oldest due timer is overdue or None)."""
    client = _client()
    oldest = client.zrange(TIMERS_KEY, 0, 0, withscores=True)
    overdue = max(0.0, time.time() - oldest[0][1]) if oldest else None
    return client.zcard(TIMERS_KEY), overdue


def lock_acquire(saga_id, ttl_seconds: float) -> str | None:
    """Fast-path executor lock. Returns a token, or None if another executor holds it."""
    token = uuid.uuid4().hex
    if _client().set(lock_key(saga_id), token, nx=True, px=int(ttl_seconds * 1000)):
        return token
    return None


def lock_release(saga_id, token: str) -> None:
    client = _client()
    _scripts.release(keys=[lock_key(saga_id)], args=[token], client=client)
