"""The Redis side of a saga: the status mirror, the event log, the timers and the executor lock.

The keys come from sagaops.keys. Keys use a hash tag (`saga:{<id>}`) so one
saga's keys share a Redis Cluster slot; the timers are split into SAGAOPS_TIMER_SHARDS sorted
sets (`sagaops:timers:{0}` .. `{N-1}`, the shard chosen from the saga id) so that no single
Cluster node holds, or serves, every timer. Redis holds nothing that cannot be rebuilt from
PostgreSQL: `sagaops_rebuild_mirror` and the reconcile pass do.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime

import redis

from sagaops.conf import conf
from sagaops.keys import LEGACY_TIMERS_KEY, SAGA_KEY_PATTERN, lock_key, log_key, saga_id_of, saga_key, timer_key
from sagaops.redis import get_redis

log = logging.getLogger(__name__)

LOG_MAXLEN = 50

# Newer version wins: a late write from an older transition never overwrites a newer one.
# The log is a capped LIST, not a STREAM: Redis 7 preallocates 4 KB for a stream's first node,
# which would make every saga's mirror cost ~5 KB instead of ~0.6 KB. A log left as a stream by
# an older release is replaced (the database holds the full timeline).
_PUBLISH = f"""
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
local nfields = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], unpack(ARGV, 5, 4 + nfields * 2))
if ARGV[3] == '1' or redis.call('TYPE', KEYS[2])['ok'] == 'stream' then redis.call('DEL', KEYS[2]) end
if #ARGV >= 5 + nfields * 2 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 5 + nfields * 2, #ARGV))
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


def timer_shard(saga_id) -> int:
    """The timer shard of a saga: stable across processes (crc32, not Python's salted hash)."""
    return zlib.crc32(str(saga_id).encode()) % conf.SAGAOPS_TIMER_SHARDS


def timer_keys() -> list[str]:
    return [timer_key(shard) for shard in range(conf.SAGAOPS_TIMER_SHARDS)]


def saga_timer_key(saga_id) -> str:
    return timer_key(timer_shard(saga_id))


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
    the truth, and the reconcile pass re-arms the timer and heals the hash.
    """
    try:
        publish_many([(saga, list(events), finished, wake_at)])
    except redis.RedisError:
        log.warning("mirror write failed for saga %s; the reconcile pass will repair it", saga.id, exc_info=True)


def publish_many(items: list[tuple], *, repair: bool = False) -> None:
    """Publish (saga, events, finished, wake_at) items in one pipelined round trip.

    A repair (rebuild, heal) writes the saga's latest events from the database, which the log
    may partly hold already: they replace the log instead of being appended. And it never moves
    an armed timer later (ZADD LT): one the executor set sooner than the database's still fires.
    """
    client = _client()
    calls = []
    # EVALSHA straight into the pipeline: a Script object there would first ask SCRIPT EXISTS,
    # one more round trip on every transition.
    pipe = client.pipeline(transaction=False)
    for saga, events, finished, wake_at in items:
        fields = mirror_fields(saga)
        flat = [item for pair in fields.items() for item in pair]
        encoded = [json.dumps(e, separators=(",", ":"), default=str) for e in events]
        ttl = conf.SAGAOPS_MIRROR_TTL if finished else 0
        keys = [saga_key(saga.id), log_key(saga.id)]
        args = [saga.version, ttl, "1" if repair else "0", len(fields), *flat, *encoded]
        calls.append((len(pipe), keys, args))
        pipe.evalsha(_scripts.publish.sha, len(keys), *keys, *args)
        if wake_at is not None:
            pipe.zadd(saga_timer_key(saga.id), {str(saga.id): wake_at.timestamp()}, lt=repair)
        elif finished or saga.status == "stuck":
            pipe.zrem(saga_timer_key(saga.id), str(saga.id))
    replies = pipe.execute(raise_on_error=False)
    for position, keys, args in calls:
        if isinstance(replies[position], redis.exceptions.NoScriptError):  # Redis restarted: load and run it
            _scripts.publish(keys=keys, args=args, client=client)
    for reply in replies:
        if isinstance(reply, redis.RedisError) and not isinstance(reply, redis.exceptions.NoScriptError):
            raise reply


def read(saga_id) -> dict[str, str]:
    return _client().hgetall(saga_key(saga_id))


def read_log(saga_id, count: int = LOG_MAXLEN) -> list[dict]:
    return [json.loads(entry) for entry in _client().lrange(log_key(saga_id), 0, count - 1)]


def saga_keys_scan(count: int = 1000) -> Iterator[str]:
    """The saga ids that have a mirror hash (SCAN, not KEYS: it never blocks Redis)."""
    for key in _client().scan_iter(match=SAGA_KEY_PATTERN, count=count, _type="hash"):
        saga_id = saga_id_of(key)
        if saga_id is not None:
            yield saga_id


def read_ttls(saga_ids: list) -> list[int]:
    """Each mirror hash's TTL in seconds (-1: none, -2: no hash), pipelined."""
    pipe = _client().pipeline(transaction=False)
    for saga_id in saga_ids:
        pipe.ttl(saga_key(saga_id))
    return pipe.execute()


def delete_many(saga_ids: list) -> None:
    if saga_ids:
        _client().delete(*[key for saga_id in saga_ids for key in (saga_key(saga_id), log_key(saga_id))])


def read_versions(saga_ids: list) -> list[int | None]:
    """The mirrored version of each saga (None where it has no hash), in one pipelined round trip."""
    pipe = _client().pipeline(transaction=False)
    for saga_id in saga_ids:
        pipe.hget(saga_key(saga_id), "version")
    return [int(v) if v is not None else None for v in pipe.execute()]


def timer_set(saga_id, when: datetime) -> None:
    _client().zadd(saga_timer_key(saga_id), {str(saga_id): when.timestamp()})


def timers_set_many(items: dict[str, float], *, only_earlier: bool = False) -> None:
    """Arm many timers, grouped by shard, in one pipelined round trip.

    only_earlier (ZADD LT) never moves an armed timer later: the reconcile pass uses it, so a
    timer the executor set sooner than the database's wake time still fires when it was set to.
    """
    if not items:
        return
    by_shard: dict[int, dict[str, float]] = {}
    for saga_id, when in items.items():
        by_shard.setdefault(timer_shard(saga_id), {})[str(saga_id)] = when
    pipe = _client().pipeline(transaction=False)
    for shard, members in by_shard.items():
        pipe.zadd(timer_key(shard), members, lt=only_earlier)
    pipe.execute()


def legacy_timers_drop() -> int:
    """Delete the unsharded timer ZSET of an older release (its timers are re-armed from the database)."""
    return _client().delete(LEGACY_TIMERS_KEY)


def timers_pop_due(shard: int, limit: int) -> list[str]:
    """Atomically take up to `limit` due timers of one shard (two ticks never take the same one)."""
    client = _client()
    return _scripts.pop_due(keys=[timer_key(shard)], args=[time.time(), limit], client=client)


def timers_due_iter(*, limit: int, deadline: float, first_shard: int = 0) -> Iterator[list[str]]:
    """Batches of due saga ids, round-robin over the shards, until none is due or time is up.

    Round-robin, not shard by shard: a backlog on one shard does not delay the others' timers.
    """
    shards = conf.SAGAOPS_TIMER_SHARDS
    pending = [(first_shard + i) % shards for i in range(shards)]
    while pending and time.monotonic() < deadline:
        still_due = []
        for shard in pending:
            due = timers_pop_due(shard, limit)
            if due:
                yield due
            if len(due) == limit:  # a full batch: there may be more on this shard
                still_due.append(shard)
            if time.monotonic() >= deadline:
                return
        pending = still_due


def timers_due_count(now: float) -> int:
    """How many timers over all shards are due at `now` (epoch seconds)."""
    pipe = _client().pipeline(transaction=False)
    for key in timer_keys():
        pipe.zcount(key, "-inf", now)
    return sum(pipe.execute())


def timer_backlog() -> tuple[int, float | None]:
    """(timers armed over all shards, seconds the oldest due timer is overdue or None)."""
    pipe = _client().pipeline(transaction=False)
    for key in timer_keys():
        pipe.zcard(key)
        pipe.zrange(key, 0, 0, withscores=True)
    replies = pipe.execute()
    armed = sum(replies[0::2])
    oldest = [first[0][1] for first in replies[1::2] if first]
    overdue = max(0.0, time.time() - min(oldest)) if oldest else None
    return armed, overdue


def lock_acquire(saga_id, ttl_seconds: float) -> str | None:
    """Fast-path executor lock. Returns a token, or None if another executor holds it."""
    token = uuid.uuid4().hex
    if _client().set(lock_key(saga_id), token, nx=True, px=int(ttl_seconds * 1000)):
        return token
    return None


def lock_release(saga_id, token: str) -> None:
    client = _client()
    _scripts.release(keys=[lock_key(saga_id)], args=[token], client=client)
