"""The order saga end to end through a real Celery worker: money and stock always add up."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from inventory.models import Product
from orders.models import Order
from orders.services import order_place
from payments.models import Account, Payment
from sagaops import mirror
from sagaops.faults import set_redis_spec
from sagaops.redis import get_redis
from sagaops.services.timers import mirror_rebuild
from sagaops.tasks import advance
from tests.helpers import event_kinds, step_statuses, wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker", "catalog")]

KB = [{"sku": "KB", "quantity": 2}]


def place(customer="ann", items=KB, coupon=None):
    order, saga = order_place(customer=customer, items=items, coupon=coupon)
    return order, wait_for_status(saga.id, timeout=40)


def stock(sku="KB"):
    return Product.objects.get(sku=sku).stock


def balance(customer="ann"):
    return Account.objects.get(customer=customer).balance


def compensations(saga):
    return [s for k, s in saga.events.order_by("id").values_list("kind", "step") if k == "step_compensated"]


def test_a_good_order_completes():
    order, saga = place()
    order.refresh_from_db()
    assert (saga.status, order.status) == ("completed", "confirmed")
    assert (stock(), balance()) == (8, Decimal("822.00"))
    assert Payment.objects.get(reference=f"{saga.id}:charge_payment").status == "charged"


def test_out_of_stock_compensates_the_order_only():
    order, saga = place(items=[{"sku": "KB", "quantity": 11}])
    assert saga.status == "compensated"
    assert compensations(saga) == ["create_order"]
    assert (stock(), balance()) == (10, Decimal("1000.00"))


def test_insufficient_funds_compensates_stock_then_order():
    order, saga = place(customer="pat")
    assert saga.status == "compensated"
    assert compensations(saga) == ["reserve_stock", "create_order"]
    assert (stock(), balance("pat")) == (10, Decimal("5.00"))


def test_a_transient_payment_error_is_retried():
    set_redis_spec("payments.charge=first:2")
    order, saga = place()
    assert saga.status == "completed"
    assert saga.steps.get(name="charge_payment").attempts == 3
    assert balance() == Decimal("822.00")


def test_a_payment_that_times_out_is_compensated_too():
    set_redis_spec("payments.charge=hang:6")
    order, saga = place()
    assert saga.status == "compensated"
    assert saga.steps.get(name="charge_payment").outcome_unknown
    assert compensations(saga) == ["charge_payment", "reserve_stock", "create_order"]
    set_redis_spec(None)
    assert (stock(), balance()) == (10, Decimal("1000.00"))


def test_a_charge_whose_reply_is_always_lost_is_refunded():
    # payments charges every time, but the saga never hears back: the outcome is unknown
    set_redis_spec("payments.charge.reply=error:1")
    order, saga = place()
    set_redis_spec(None)
    assert saga.status == "compensated"
    assert compensations(saga) == ["charge_payment", "reserve_stock", "create_order"]
    assert Payment.objects.get(reference=f"{saga.id}:charge_payment").status == "refunded"
    assert (stock(), balance()) == (10, Decimal("1000.00"))


def test_a_failure_after_the_pivot_retries_then_sticks():
    set_redis_spec("orders.notify=error:1")
    order, saga = place()
    order.refresh_from_db()
    assert (saga.status, order.status) == ("stuck", "confirmed")
    assert saga.steps.get(name="notify_customer").attempts == 5
    assert balance() == Decimal("822.00")  # the order stands: nothing is undone after the pivot


def test_a_compensation_that_keeps_failing_sticks():
    set_redis_spec("inventory.release=error:1")
    order, saga = place(customer="pat")
    assert saga.status == "stuck"
    assert step_statuses(saga)["reserve_stock"] == "compensation_failed"
    assert "compensation of step reserve_stock failed after 5 attempt(s)" in saga.attention_reason


def test_the_same_advance_delivered_twice_charges_once():
    set_redis_spec("inventory.reserve=delay:0.5")
    order, saga = order_place(customer="ann", items=KB)
    advance.delay(str(saga.id))
    advance.delay(str(saga.id))
    saga = wait_for_status(saga.id)
    assert saga.status == "completed"
    assert Payment.objects.filter(customer="ann").count() == 1
    assert (stock(), balance()) == (8, Decimal("822.00"))
    assert event_kinds(saga).count("step_succeeded") == 5


def test_two_orders_racing_for_one_coupon():
    Account.objects.filter(customer="pat").update(balance=Decimal("1000.00"))
    barrier, sagas = threading.Barrier(2), []

    def order(customer):
        barrier.wait()
        sagas.append(order_place(customer=customer, items=[{"sku": "MS", "quantity": 1}], coupon="TEN")[1])
        connection.close()

    threads = [threading.Thread(target=order, args=(c,)) for c in ("ann", "pat")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    statuses = sorted(wait_for_status(s.id).status for s in sagas)
    assert statuses == ["compensated", "completed"]
    assert Payment.objects.filter(coupon__code="TEN", status="charged").count() == 1
    assert stock("MS") == 9


def test_redis_flushed_mid_saga_still_finishes():
    set_redis_spec("inventory.reserve=delay:1")
    placed = [order_place(customer="ann", items=[{"sku": "MS", "quantity": 1}])[1] for _ in range(3)]
    wait_for_status(placed[0].id, ("running",))
    get_redis().flushdb()  # the mirror, the timers, the locks and the fault spec are gone
    finished = [wait_for_status(s.id, timeout=40) for s in placed]
    assert {s.status for s in finished} == {"completed"}
    assert stock("MS") == 7
    mirror_rebuild(include_finished=True)
    assert mirror.read(placed[0].id)["status"] == "completed"
    assert Order.objects.filter(status="confirmed").count() == 3
