"""Liveness marks the console's system-health panel reads: worker heartbeats and the last tick/reconcile.

A worker writes `sagaops:worker:<hostname>` (JSON, with a TTL of three intervals) every
SAGAOPS_WORKER_HEARTBEAT seconds from a daemon thread of its main process, so a killed or hung
worker disappears from Redis by itself. Heartbeats are plain keys rather than Celery's event
heartbeats so the web process reads them with one SCAN, without a broadcast that waits for replies.
The beat-driven tasks stamp when they last finished; the web side compares that with now.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

import redis
from celery import signals

from sagaops import definitions
from sagaops.conf import conf
from sagaops.keys import WORKER_PREFIX, last_run_key, worker_key
from sagaops.redis import get_redis

log = logging.getLogger(__name__)

# Beat-driven tasks whose last run the health panel shows (task name -> short name).
STAMPED_TASKS = {"sagaops.tasks.tick": "tick", "sagaops.tasks.reconcile": "reconcile"}

_stop = threading.Event()


def heartbeat_document(hostname: str, queues: list[str], started: float) -> dict:
    """What a live worker says about itself: the definitions and versions it can run, its queues."""
    return {
        "hostname": hostname,
        "pid": os.getpid(),
        "started": started,
        "at": time.time(),
        "queues": queues,
        "definitions": [[d.name, d.version] for d in definitions.registered_definitions()],
    }


def beat_once(hostname: str, queues: list[str], started: float) -> None:
    interval = conf.SAGAOPS_WORKER_HEARTBEAT
    document = heartbeat_document(hostname, queues, started)
    pipe = get_redis().pipeline(transaction=False)
    pipe.set(worker_key(hostname), json.dumps(document), ex=max(1, int(interval * 3)))
    pipe.set(last_run_key("worker"), repr(document["at"]))  # when any worker was last alive
    pipe.execute()


def _beat_forever(hostname: str, queues: list[str]) -> None:
    started = time.time()
    while not _stop.is_set():
        try:
            beat_once(hostname, queues, started)
        except redis.RedisError:
            log.warning("heartbeat: Redis unreachable, retrying", exc_info=True)
        _stop.wait(conf.SAGAOPS_WORKER_HEARTBEAT)


def _queues_of(consumer) -> list[str]:
    try:
        return sorted(q.name for q in consumer.task_consumer.queues)
    except AttributeError:
        return [consumer.app.conf.task_default_queue]


def _worker_ready(sender=None, **kwargs) -> None:
    hostname = getattr(sender, "hostname", None) or socket.gethostname()
    _stop.clear()
    thread = threading.Thread(
        target=_beat_forever, args=(hostname, _queues_of(sender)), name="sagaops-heartbeat", daemon=True
    )
    thread.start()


def _worker_shutdown(sender=None, **kwargs) -> None:
    _stop.set()
    hostname = getattr(sender, "hostname", None)
    if hostname:
        try:
            get_redis().delete(worker_key(hostname))
        except redis.RedisError:
            pass  # the key expires by itself


def _task_postrun(task=None, **kwargs) -> None:
    name = STAMPED_TASKS.get(getattr(task, "name", ""))
    if name is None:
        return
    try:
        get_redis().set(last_run_key(name), repr(time.time()))
    except redis.RedisError:
        log.warning("heartbeat: could not stamp %s", name, exc_info=True)


def connect() -> None:
    signals.worker_ready.connect(_worker_ready, weak=False, dispatch_uid="sagaops-heartbeat-ready")
    signals.worker_shutdown.connect(_worker_shutdown, weak=False, dispatch_uid="sagaops-heartbeat-shutdown")
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid="sagaops-heartbeat-stamp")


@dataclass
class Worker:
    hostname: str
    age: float  # seconds since its last heartbeat
    uptime: float
    queues: list[str]
    definitions: list[tuple[str, int]]


def live_workers(client=None) -> list[Worker]:
    client = client or get_redis()
    keys = sorted(client.scan_iter(match=f"{WORKER_PREFIX}*", count=500))
    now = time.time()
    workers = []
    for raw in client.mget(keys) if keys else []:
        if raw is None:
            continue  # expired between SCAN and MGET
        doc = json.loads(raw)
        workers.append(
            Worker(
                hostname=doc["hostname"],
                age=max(0.0, now - doc["at"]),
                uptime=max(0.0, now - doc["started"]),
                queues=doc.get("queues", []),
                definitions=[tuple(d) for d in doc.get("definitions", [])],
            )
        )
    return workers
