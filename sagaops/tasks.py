"""Celery entry points: ids in, call a service, nothing else."""

from celery import shared_task

from sagaops.services.executor import saga_advance
from sagaops.services.timers import timers_due, timers_reconcile


@shared_task(name="sagaops.tasks.advance")
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
