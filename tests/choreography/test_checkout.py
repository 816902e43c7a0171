"""The choreographed checkout end to end: consumer processes, real streams; money and stock conserved."""

from decimal import Decimal

import pytest

from inventory.models import Product
from orders.invariants import check_invariants
from orders.services import CHECKOUT_CHOREOGRAPHED
from payments.models import Account, Coupon, Payment
from sagaops.choreography.models import ProcessedEvent
from sagaops.choreography.selectors import handlings_for, requested_commands
from tests.choreography.conftest import KB, place, wait_until
from tests.helpers import event_kinds, step_statuses

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumers", "rules")]


def stock(sku: str = "KB") -> int:
    return Product.objects.get(sku=sku).stock


def balance(customer: str = "ann") -> Decimal:
    return Account.objects.get(customer=customer).balance


def handled(saga) -> list[str]:
    handlings = wait_until(lambda: list(handlings_for(saga_id=saga.id)), what="a report handling")
    return requested_commands(handlings[0])


def test_a_good_order_completes_by_events(ledger):
    order, saga = place()
    assert (saga.type, saga.status, order.status) == (CHECKOUT_CHOREOGRAPHED, "completed", "confirmed")
    assert order.notified_at is not None
    assert set(step_statuses(saga).values()) == {"succeeded"}
    assert event_kinds(saga).count("step_succeeded") == 5
    assert event_kinds(saga)[-1] == "saga_completed"
    assert (stock(), balance()) == (8, Decimal("822.00"))
    assert Payment.objects.get(reference=f"{saga.id}:charge_payment").status == "charged"
    assert check_invariants(ledger) == []


def test_each_group_handles_each_event_once(ledger):
    order, saga = place()
    handled_by = ProcessedEvent.objects.filter(correlation_id=saga.correlation_id)
    pairs = list(handled_by.values_list("group", "event_type"))
    assert len(pairs) == len(set(pairs))
    assert ("inventory", "OrderCreated") in pairs and ("tracker", "CustomerNotified") in pairs


def test_out_of_stock_cancels_the_order_only(ledger):
    order, saga = place(items=[{"sku": "KB", "quantity": 11}])
    assert (saga.status, order.status) == ("compensated", "cancelled")
    assert handled(saga) == ["orders.cancel"]
    assert step_statuses(saga)["create_order"] == "compensated"
    assert step_statuses(saga)["reserve_stock"] == "failed"
    assert "failure_reported" in event_kinds(saga)
    assert (stock(), balance()) == (10, Decimal("1000.00"))
    assert check_invariants(ledger) == []


def test_insufficient_funds_releases_stock_and_cancels(ledger):
    order, saga = place(customer="pat")
    assert (saga.status, order.status) == ("compensated", "cancelled")
    assert handled(saga) == ["inventory.release", "orders.cancel"]
    assert step_statuses(saga)["reserve_stock"] == "compensated"
    assert (stock(), balance("pat")) == (10, Decimal("5.00"))
    assert check_invariants(ledger) == []


def test_a_coupon_already_used_gives_everything_back(ledger):
    Coupon.objects.filter(code="TEN").update(used_by_reference="another-order")
    order, saga = place(coupon="TEN")
    assert (saga.status, order.status) == ("compensated", "cancelled")
    assert handled(saga) == ["payments.coupon_release", "inventory.release", "orders.cancel"]
    assert Coupon.objects.get(code="TEN").used_by_reference == "another-order"  # not ours to release
    assert (stock(), balance()) == (10, Decimal("1000.00"))
    assert check_invariants(ledger) == []


def test_the_api_chooses_the_choreographed_checkout(ledger, django_user_model):
    from rest_framework.test import APIClient

    from sagaops.api.services import service_account_create
    from tests.helpers import wait_for_status

    client = APIClient()
    account, _ = service_account_create(name="shop", saga_types=[CHECKOUT_CHOREOGRAPHED])
    client.force_authenticate(account.user)
    body = {"customer": "ann", "items": KB, "mode": "choreographed"}
    answer = client.post("/api/orders/", body, format="json")
    assert answer.status_code == 202, answer.content
    saga = wait_for_status(answer.json()["saga"]["id"], timeout=20)
    assert (saga.type, saga.status) == (CHECKOUT_CHOREOGRAPHED, "completed")
