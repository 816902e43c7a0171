"""The circuit breaker's counts in Redis: one HASH per step, a field per second and outcome."""

from __future__ import annotations

import logging
import time

import redis

from sagaops.keys import breaker_key
from sagaops.redis import get_redis

log = logging.getLogger(__name__)


def breaker_count(key: str, *, failed: bool, window: float) -> dict[int, tuple[int, int]] | None:
    """Add the outcome; for a failure, return the window's buckets {second: (ok, failed)}."""
    now = int(time.time())
    client = get_redis()
    with client.pipeline() as pipe:
        pipe.hincrby(key, f"{now}:{'fail' if failed else 'ok'}", 1)
        pipe.expire(key, int(window) + 5)
        if failed:
            pipe.hgetall(key)
        replies = pipe.execute()
    if not failed:
        return None
    buckets: dict[int, list[int]] = {}
    stale = []
    for name, value in replies[2].items():
        second, _, outcome = name.partition(":")
        if int(second) < now - window:
            stale.append(name)
            continue
        buckets.setdefault(int(second), [0, 0])[outcome == "fail"] += int(value)
    if stale:
        client.hdel(key, *stale)
    return {second: (ok, bad) for second, (ok, bad) in buckets.items()}


def breaker_reset(saga_type: str, step: str) -> None:
    """Forget the counts (a release starts afresh, so the burst that tripped it cannot trip it again)."""
    try:
        get_redis().delete(breaker_key(saga_type, step))
    except redis.RedisError:
        log.warning("could not reset the circuit breaker of %s:%s", saga_type, step)
