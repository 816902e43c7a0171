"""Celery entry points of the choreography app."""

from celery import shared_task

from sagaops import dispatch
from sagaops.choreography.services.tracker import sagas_mark_overdue


@shared_task(name=dispatch.CHECK_OVERDUE)
def check_overdue() -> int:
    """Mark stuck the choreographed sagas whose next event is overdue."""
    return sagas_mark_overdue()
