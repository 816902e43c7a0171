"""Waiting on real processes: poll the database until a saga reaches a state."""

import time

from sagaops.models import Saga
from sagaops.states import SagaStatus

SETTLED = (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.STUCK, SagaStatus.RESOLVED)


def wait_for_status(saga_id, statuses=SETTLED, timeout: float = 30) -> Saga:
    if isinstance(statuses, str):
        statuses = (statuses,)
    deadline = time.monotonic() + timeout
    saga = None
    while time.monotonic() < deadline:
        saga = Saga.objects.get(pk=saga_id)
        if saga.status in statuses:
            return saga
        time.sleep(0.1)
    raise AssertionError(f"saga {saga_id} is {saga.status if saga else '?'}, not {statuses}, after {timeout}s")


def step_statuses(saga) -> dict[str, str]:
    return dict(saga.steps.order_by("index").values_list("name", "status"))


def event_kinds(saga) -> list[str]:
    return list(saga.events.order_by("id").values_list("kind", flat=True))


def run_bulk(bulk_id):
    """Run a bulk action's ticks one after the other in this process, without the rate's pauses."""
    from sagaops.models import BulkAction
    from sagaops.services.bulk import bulk_tick

    while bulk_tick(bulk_id=bulk_id, tick=BulkAction.objects.get(pk=bulk_id).tick):
        pass
    return BulkAction.objects.get(pk=bulk_id)
