"""Celery entry points of the choreography app."""

from celery import shared_task

from sagaops.choreography.services.tracker import sagas_mark_overdue


@shared_task(name="sagaops.choreography.tasks.check_overdue")
def check_overdue() -> int:
    """Mark stuck the choreographed sagas whose next event is overdue."""
    return sagas_mark_overdue()
