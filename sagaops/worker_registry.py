"""Which live workers know which saga definitions: each worker writes the (type, version) pairs it
has registered to Redis when it is ready, and again every REFRESH seconds, with a TTL; a worker
that dies drops out after TTL seconds. `GET /api/saga-types/` and the version alert read it.

A saga whose version no live worker knows re-wakes forever (each worker logs an error and leaves
it); this is how an operator sees that before the log does.
"""

from __future__ import annotations

import json
import logging
import socket
import threading

import redis
from celery import signals

from sagaops.definitions import registered_definitions
from sagaops.redis import get_redis

log = logging.getLogger(__name__)

KEY_PREFIX = "sagaops:worker:"
TTL = 30
REFRESH = 10
_stop = threading.Event()


def worker_key(name: str) -> str:
    return f"{KEY_PREFIX}{name}"


def announce(name: str) -> None:
    versions = [[d.name, d.version] for d in registered_definitions()]
    try:
        get_redis().set(worker_key(name), json.dumps({"name": name, "definitions": versions}), ex=TTL)
    except redis.RedisError:
        log.warning("could not announce worker %s's saga definitions", name)


def live_workers() -> dict[str, set[tuple[str, int]]]:
    """{worker name: {(type, version), ...}} of the workers announced within the TTL."""
    client = get_redis()
    keys = list(client.scan_iter(f"{KEY_PREFIX}*", count=1000))
    workers = {}
    for raw in client.mget(keys) if keys else []:
        if raw:
            doc = json.loads(raw)
            workers[doc["name"]] = {(t, int(v)) for t, v in doc["definitions"]}
    return workers


def _keep_announcing(name: str) -> None:
    while not _stop.wait(REFRESH):
        announce(name)


def _ready(sender=None, **kwargs) -> None:
    name = getattr(sender, "hostname", None) or socket.gethostname()
    announce(name)
    threading.Thread(target=_keep_announcing, args=(name,), daemon=True, name="sagaops-announce").start()


def _shutdown(sender=None, **kwargs) -> None:
    _stop.set()
    name = getattr(sender, "hostname", None)
    if name:
        try:
            get_redis().delete(worker_key(name))
        except redis.RedisError:
            pass  # it expires by itself


def connect() -> None:
    signals.worker_ready.connect(_ready, weak=False, dispatch_uid="sagaops-worker-announce")
    signals.worker_shutdown.connect(_shutdown, weak=False, dispatch_uid="sagaops-worker-withdraw")
