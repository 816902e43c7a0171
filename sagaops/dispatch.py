"""The engine's Celery tasks by name, for the services that send them.

The tasks call the services, so a service cannot import its task without a cycle; it looks the
task up in the Celery app's registry instead (`task(ADVANCE).delay(...)`), which also honours the
app's settings (routes, eager mode in tests). `sagaops.tasks` registers the tasks under these names.
"""

from __future__ import annotations

from celery import Task, current_app

ADVANCE = "sagaops.tasks.advance"
TICK = "sagaops.tasks.tick"
RECONCILE = "sagaops.tasks.reconcile"
PRUNE = "sagaops.tasks.prune"
RELEASE_HOLD = "sagaops.tasks.release_hold"
KICK_HOLDS = "sagaops.tasks.kick_holds"
BULK_TICK = "sagaops.tasks.bulk_tick"
KICK_BULKS = "sagaops.tasks.kick_bulks"
ALERT_SAGA = "sagaops.observability.tasks.alert_saga"
DELIVER_ALERT = "sagaops.observability.tasks.deliver_alert"
CHECK_ALERTS = "sagaops.observability.tasks.check_alerts"
CHECK_OVERDUE = "sagaops.choreography.tasks.check_overdue"


def task(name: str) -> Task:
    """The registered task `name`; a clear error when the process's Celery app lacks it.

    A worker has imported every installed app's tasks when it starts; a web process imports them
    (the app's autodiscovery) the first time it sends one.
    """
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    try:
        return current_app.tasks[name]
    except KeyError:
        raise LookupError(
            f"the Celery task {name} is not registered: the Celery app must discover the installed "
            "apps' tasks (app.autodiscover_tasks(), docs/EMBEDDING.md)"
        ) from None
