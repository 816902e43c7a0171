"""The checkout with inventory and payments as remote HTTP steps: a worker configured with
SAGAOPS_PARTICIPANTS_URL calls the live server's participant endpoints."""

import logging
from decimal import Decimal

import pytest

from inventory.models import Product
from orders.services import order_place
from payments.models import Account
from sagaops.api.services import service_account_create
from tests.conftest import other_workers_paused, start_worker
from tests.helpers import step_statuses, wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]


@pytest.fixture
def remote_worker(live_server):
    """The only worker consuming while the test runs: the suite's worker (if up) is paused."""
    _, token = service_account_create(name="checkout", participant=["inventory", "payments"])
    with other_workers_paused():
        worker = start_worker(
            "remote", SAGAOPS_PARTICIPANTS_URL=live_server.url, SAGAOPS_PARTICIPANTS_TOKEN=token, SAGAOPS_FAULTS=""
        )
        yield worker
        worker.stop()


@pytest.fixture
def participant_log(caplog):
    """What the live server's participant endpoints were asked (they log each call)."""
    caplog.set_level(logging.INFO, logger="inventory.apis")
    caplog.set_level(logging.INFO, logger="payments.apis")
    return lambda: [r.getMessage() for r in caplog.records if r.name in ("inventory.apis", "payments.apis")]


def test_a_checkout_with_remote_participants_completes(remote_worker, participant_log):
    order, saga = order_place(customer="ann", items=[{"sku": "KB", "quantity": 2}], coupon="TEN")

    saga = wait_for_status(saga.id)

    assert saga.status == "completed"
    assert participant_log() == [
        f"reserve {saga.id}:reserve_stock (correlation order:{order.pk})",
        f"charge {saga.id}:charge_payment (correlation order:{order.pk})",
    ]
    assert Product.objects.get(sku="KB").stock == 8
    assert Account.objects.get(customer="ann").balance == Decimal("832.00")


def test_a_remote_refusal_is_not_retried_and_is_compensated_over_http(remote_worker, participant_log):
    order, saga = order_place(customer="pat", items=[{"sku": "KB", "quantity": 2}])

    saga = wait_for_status(saga.id)

    assert saga.status == "compensated"
    charge = saga.steps.get(name="charge_payment")
    # InsufficientFunds came back as a 409 and was raised as itself: non-retryable, one attempt.
    assert (charge.attempts, charge.last_error_type) == (1, "payments.exceptions.InsufficientFunds")
    assert step_statuses(saga)["reserve_stock"] == "compensated"
    assert f"release {saga.id}:reserve_stock (correlation order:{order.pk})" in participant_log()
    assert Product.objects.get(sku="KB").stock == 10
    assert Account.objects.get(customer="pat").balance == Decimal("5.00")
