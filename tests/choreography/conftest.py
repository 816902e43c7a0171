"""Choreography tests run real `sagaops_consume` processes on the real Redis Streams (the slot's
Redis database) and the test database, with short claim, retry and acknowledgement times."""

import time
from decimal import Decimal

import pytest

from bench.consumers import ConsumerProcess
from orders.invariants import Ledger
from orders.services import CHECKOUT_CHOREOGRAPHED, checkout_payload, order_place
from sagaops.choreography.services.rules import demo_rules_ensure
from sagaops.services import saga_start
from tests.conftest import OUTPUT, worker_env
from tests.helpers import wait_for_status

CONSUMER_ENV = {
    "SAGAOPS_STREAM_CLAIM_IDLE_MS": "800",
    "SAGAOPS_STREAM_MAX_DELIVERIES": "3",
    "SAGAOPS_SUPERVISOR_ACK_TIMEOUT": "5",
    "SAGAOPS_SUPERVISOR_RETRY_DELAY": "0.2",
    "SAGAOPS_SUPERVISOR_MAX_ATTEMPTS": "2",
}
KB = [{"sku": "KB", "quantity": 2}]


def start_consumer(group: str, name: str) -> ConsumerProcess:
    return ConsumerProcess(group, name=name, log_dir=OUTPUT, env=worker_env(**CONSUMER_ENV)).start()


@pytest.fixture(scope="module")
def consumers(django_db_setup, django_db_blocker):
    """One `sagaops_consume all` process for the module (Redis is flushed per test: it recreates its groups)."""
    process = start_consumer("all", "suite")
    yield process
    process.stop()


@pytest.fixture
def rules(db):
    demo_rules_ensure()


@pytest.fixture
def ledger(catalog):
    return Ledger.take()


def wait_until(predicate, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not met after {timeout}s")


def place(customer: str = "ann", items=KB, coupon=None, timeout: float = 20):
    order, saga = order_place(customer=customer, items=items, coupon=coupon, mode="choreographed")
    saga = wait_for_status(saga.id, timeout=timeout)
    order.refresh_from_db()
    return order, saga


def pending_order(customer: str = "ann", total: str = "178.00", coupon: str = ""):
    """A pending order with its choreographed saga and no event published: a test applies effects by hand."""
    from tests.orders.factories import OrderFactory, OrderLineFactory

    order = OrderFactory(customer=customer, total=Decimal(total), coupon=coupon)
    OrderLineFactory(order=order, sku="KB", quantity=2, unit_price=Decimal("89.00"))
    saga, _ = saga_start(
        saga_type=CHECKOUT_CHOREOGRAPHED,
        payload=checkout_payload(order),
        correlation_id=f"order:{order.pk}",
    )
    order.saga_id = saga.id
    order.save(update_fields=["saga_id"])
    return order, saga
