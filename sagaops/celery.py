"""sagaops in a project's Celery app: one call, `sagaops.celery.configure(app)`.

    app = Celery("myproject")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    sagaops.celery.configure(app)
    app.autodiscover_tasks()

It installs what the engine relies on as the app's defaults (a project's own CELERY_* setting
still wins): late acks, tasks rejected back to the queue when a worker is lost, one task
prefetched at a time, no results, JSON only; the timers queue and its routes; the beat schedule
(tick every second, reconcile, prune, holds, alert and choreography checks) and the leader-lease
beat scheduler; and the workers' heartbeat for the console's health panel. `import sagaops`
creates no Celery app of its own.
"""

from __future__ import annotations

from datetime import timedelta

from celery import Celery
from kombu import Queue

from sagaops import dispatch
from sagaops.conf import conf
from sagaops.console import heartbeat

DEFAULT_QUEUE = "celery"
TIMERS_QUEUE = "sagaops.timers"


def beat_schedule() -> dict[str, dict]:
    """The engine's periodic tasks (periods from sagaops.conf)."""
    return {
        # A tick left waiting longer than a second is stale (the next one is on its way): it expires.
        "sagaops-tick": {"task": dispatch.TICK, "schedule": timedelta(seconds=1), "options": {"expires": 2}},
        "sagaops-reconcile": {
            "task": dispatch.RECONCILE,
            "schedule": timedelta(seconds=conf.SAGAOPS_RECONCILE_SECONDS),
        },
        # Retention: delete finished sagas and the bookkeeping that can no longer matter (sagaops_prune).
        "sagaops-prune": {"task": dispatch.PRUNE, "schedule": timedelta(seconds=conf.SAGAOPS_PRUNE_SECONDS)},
        # Restart a hold's release whose chain of ticks was lost with a worker.
        "sagaops-holds-kick": {"task": dispatch.KICK_HOLDS, "schedule": timedelta(seconds=10)},
        # Restart a bulk action whose chain of ticks was lost with a worker.
        "sagaops-bulks-kick": {"task": dispatch.KICK_BULKS, "schedule": timedelta(seconds=10)},
        # Threshold alert rules, rate-limited digests, and stuck sagas whose alert was never raised.
        "sagaops-alerts-check": {
            "task": dispatch.CHECK_ALERTS,
            "schedule": timedelta(seconds=conf.SAGAOPS_ALERT_CHECK_SECONDS),
        },
        "sagaops-choreography-overdue": {
            "task": dispatch.CHECK_OVERDUE,
            "schedule": timedelta(seconds=conf.SAGAOPS_CHOREOGRAPHY_CHECK_SECONDS),
        },
    }


def celery_defaults() -> dict[str, object]:
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        # The timer tasks have their own queue, which every worker consumes besides the default
        # one: a backlog of advances cannot starve the tick.
        "task_default_queue": DEFAULT_QUEUE,
        "task_queues": (Queue(DEFAULT_QUEUE), Queue(TIMERS_QUEUE)),
        "task_routes": {dispatch.TICK: {"queue": TIMERS_QUEUE}, dispatch.RECONCILE: {"queue": TIMERS_QUEUE}},
        # Any number of beats may run: the one holding the leader lease schedules (sagaops/beat.py).
        "beat_scheduler": "sagaops.beat.LeaderLeaseScheduler",
        "beat_schedule": beat_schedule(),
    }


def configure(app: Celery) -> Celery:
    """Install the engine's Celery settings into `app` as its defaults, and the workers' heartbeat."""
    # A promise: read when the app's configuration is first needed, after Django's settings load.
    app.add_defaults(celery_defaults)
    heartbeat.connect()
    return app
