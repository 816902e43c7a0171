"""celery beat with a leader lease: run a beat on two or more hosts and only one schedules.

Every beat ticks; the one holding the lease (a Redis key with a TTL, taken with `SET NX PX` and
renewed on every tick through redis-py's `Lock`) sends the scheduled tasks, the others stand by and
try to take the lease each second. A leader that dies stops renewing, so a standby takes over
within `SAGAOPS_BEAT_LEASE_SECONDS`; one that stops cleanly hands the lease back at once.

Two leaders for a moment (a paused leader whose lease expired) would only send a tick or a
reconcile twice, and both are safe to repeat: timers are popped atomically and the reconcile
re-arms what PostgreSQL holds. The lease is one key, so it works on a Redis Cluster too.
"""

from __future__ import annotations

import logging

import redis
from celery.beat import PersistentScheduler
from redis.exceptions import LockError
from redis.lock import Lock

from sagaops import keys
from sagaops.conf import conf
from sagaops.redis import get_redis

log = logging.getLogger(__name__)

LEASE_KEY = keys.BEAT_LEADER_KEY


class LeaderLeaseScheduler(PersistentScheduler):
    # The lease's key: every beat of one deployment must share it.
    lease_key = LEASE_KEY

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lease_seconds = conf.SAGAOPS_BEAT_LEASE_SECONDS
        # A standby asks for the lease this often; the leader renews at least this often.
        self.poll_seconds = max(0.2, self.lease_seconds / 4)
        self._lease = Lock(get_redis(), self.lease_key, timeout=self.lease_seconds, blocking=False, thread_local=False)
        self.leading = False

    def tick(self, *args, **kwargs) -> float:
        if not self._hold_lease():
            return self.poll_seconds
        return min(super().tick(*args, **kwargs), self.poll_seconds)

    def _hold_lease(self) -> bool:
        try:
            held = self._renew() if self.leading else self._lease.acquire()
        except redis.RedisError:
            # Without Redis a leader cannot renew: step down, another beat takes over once it expires.
            log.warning("beat cannot reach Redis for the leader lease; standing by", exc_info=True)
            held = False
        if held != self.leading:
            log.info("beat %s the leader lease (%s)", "holds" if held else "lost", LEASE_KEY)
        self.leading = bool(held)
        return self.leading

    def _renew(self) -> bool:
        try:
            return self._lease.reacquire()
        except LockError:  # expired, or Redis was flushed: take it again if it is free
            return self._lease.acquire()

    def close(self) -> None:
        if self.leading:
            try:
                self._lease.release()
            except (LockError, redis.RedisError):
                pass  # it expires on its own
            self.leading = False
        super().close()
