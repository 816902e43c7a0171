"""A consumer killed mid-message (SIGKILL): its pending entry is claimed by another (XAUTOCLAIM)."""

import pytest

from inventory.models import Reservation
from orders.invariants import check_invariants
from orders.services import order_place
from sagaops.choreography import bus
from sagaops.choreography.models import ProcessedEvent
from sagaops.faults import set_redis_spec
from sagaops.redis import get_redis
from tests.choreography.conftest import KB, start_consumer, wait_until
from tests.helpers import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("rules")]


@pytest.fixture
def others(django_db_setup):
    process = start_consumer("orders,payments,tracker,supervisor", "others")
    yield process
    process.stop()


def pending_of(consumer: str) -> int:
    key = bus.stream_key(bus.EVENTS)
    entries = get_redis().xpending_range(key, "inventory", min="-", max="+", count=10)
    return sum(1 for e in entries if e["consumer"] == consumer)


def test_a_killed_consumers_entry_is_claimed_and_handled_once(others, ledger):
    first = start_consumer("inventory", "inventory-a")
    set_redis_spec("inventory.reserve=hang:60")
    order, saga = order_place(customer="ann", items=KB, mode="choreographed")
    wait_until(lambda: pending_of("inventory-a") == 1, what="inventory-a holding OrderCreated")
    first.kill()  # mid-message: the reservation's transaction dies with it
    set_redis_spec(None)
    second = start_consumer("inventory", "inventory-b")
    try:
        saga = wait_for_status(saga.id, timeout=20)
        assert saga.status == "completed"
        handled = ProcessedEvent.objects.get(group="inventory", event_type="OrderCreated")
        assert (handled.consumer, handled.deliveries) == ("inventory-b", 2)
        assert Reservation.objects.filter(reference=f"{saga.id}:reserve_stock").count() == 1
        assert check_invariants(ledger) == []
    finally:
        assert second.stop() == 0  # SIGTERM: a clean stop
    assert "sagaops_consume: stopped" in second.log.read_text()
