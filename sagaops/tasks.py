"""Celery entry points: ids in, call a service, nothing else."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from sagaops.console.tasks import run_bulk_action  # noqa: F401  (the console's bulk actions)
from sagaops.services.executor import saga_advance
from sagaops.services.holds import hold_release_tick, holds_kick
from sagaops.services.timers import timers_due, timers_reconcile


# A lost database connection mid-step rolls the step back; try again shortly on a fresh one.
@shared_task(
    name="sagaops.tasks.advance",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=8,
)
def advance(saga_id: str) -> None:
    saga_advance(saga_id=saga_id)


@shared_task(name="sagaops.tasks.tick")
def tick() -> int:
    due = timers_due()
    for saga_id in due:
        advance.delay(saga_id)
    return len(due)


@shared_task(name="sagaops.tasks.reconcile")
def reconcile() -> int:
    return timers_reconcile()


@shared_task(name="sagaops.tasks.release_hold", autoretry_for=(OperationalError, InterfaceError), max_retries=8)
def release_hold(hold_id: int, tick: int) -> bool:
    return hold_release_tick(hold_id=hold_id, tick=tick)


@shared_task(name="sagaops.tasks.kick_holds")
def kick_holds() -> int:
    return holds_kick()
