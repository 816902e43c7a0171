"""The console's Celery entry point (imported by sagaops/tasks.py so the worker registers it)."""

from celery import shared_task

from sagaops import dispatch
from sagaops.console.services import bulk_action_run


@shared_task(name=dispatch.RUN_BULK_ACTION)
def run_bulk_action(bulk_id: str) -> None:
    bulk_action_run(bulk_id=bulk_id)
