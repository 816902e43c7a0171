"""The raw Redis client for the mirror, timers, locks and streams (no cache-key prefix).

One setting picks the topology: a `redis://` (or `rediss://`) REDIS_URL is one server, a
`redis+cluster://host:port` (or `rediss+cluster://`) URL is a Redis Cluster reached through any
one of its nodes. redis-py's `RedisCluster` routes each command to the node owning its key's slot;
every multi-key command and script sagaops runs keeps its keys in one slot with a hash tag.
"""

from __future__ import annotations

from functools import lru_cache, partial
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from sagaops.conf import conf

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


class Cluster(RedisCluster):
    """A RedisCluster whose pipelines take EVALSHA.

    redis-py refuses EVALSHA in a cluster pipeline as a blanket precaution, yet it routes EVALSHA
    by the keys it names like any keyed command; every script sagaops runs names all its keys and
    keeps them in one slot. A NOSCRIPT reply comes back as the reply of that command, and the
    caller then runs the script through `Script`, which loads it on the nodes.
    """

    def pipeline(self, transaction=None, shard_hint=None):
        pipe = super().pipeline(transaction=transaction, shard_hint=shard_hint)
        pipe.evalsha = partial(pipe.execute_command, "EVALSHA")
        return pipe


Client = redis.Redis | RedisCluster


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def node_url(url: str) -> str:
    """The plain `redis://` URL of the node a cluster URL names (a cluster has only database 0)."""
    parts = urlsplit(url)
    scheme = CLUSTER_SCHEMES.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path not in ("", "/", "/0") else ""
    if path:
        raise ValueError(f"a Redis Cluster has only database 0, not {path.lstrip('/')} ({url})")
    return urlunsplit((scheme, parts.netloc, "", parts.query, ""))


def connect(url: str) -> Client:
    """A client for `url`: a single server, or a cluster for a `redis+cluster://` URL."""
    if is_cluster_url(url):
        try:
            return Cluster.from_url(node_url(url), decode_responses=True, health_check_interval=30)
        except RedisClusterException as exc:
            # Raised when no node answers at start; callers handle Redis being away as RedisError.
            raise redis.ConnectionError(str(exc)) from exc
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


@lru_cache(maxsize=4)
def _client_for(url: str) -> Client:
    return connect(url)


def get_redis() -> Client:
    return _client_for(conf.redis_url)
