"""sagaops.testing: a saga run in-process on a fake clock, with the engine's own rules."""

from decimal import Decimal

import pytest
from django.core import mail

from inventory.models import Product
from orders.models import Order
from orders.sagas import checkout
from orders.services import order_place
from sagaops.testing import SagaRun
from tests.sagas import BusinessError, TransientError, async_flow, flow

KB = [{"sku": "KB", "quantity": 2}]


def test_a_refused_step_compensates_the_earlier_steps_newest_first():
    run = SagaRun(flow).fail("c", BusinessError("no")).until_settled()
    assert run.status == "compensated"
    assert run.compensated == ["b", "a"]  # c was refused, so it had no effect to undo
    assert run.event_kinds[-1] == "saga_compensated"


def test_transient_failures_are_retried_on_the_fake_clock():
    start = SagaRun(flow).now
    run = SagaRun(flow).fail("b", TransientError("blip"), times=2).until_settled()
    assert run.status == "completed"
    assert [c for c in run.calls if c[1] == "b"] == [("action", "b", 1), ("action", "b", 2), ("action", "b", 3)]
    assert run.now > start  # it waited out two backoffs without sleeping


def test_a_failing_compensation_makes_the_saga_stuck():
    run = SagaRun(flow).fail("c", BusinessError("no")).fail("b", TransientError("down"), compensation=True)
    run.until_settled()
    assert (run.status, run.saga.attention_code) == ("stuck", "compensation_failed")


def test_an_async_step_waits_for_the_test_to_call_back():
    run = SagaRun(async_flow).until_settled()
    assert (run.status, run.step("wait").status) == ("running", "waiting")
    run.complete("wait", {"id": 7}, attempt=1).until_settled()
    assert run.status == "completed" and run.results["wait"] == {"id": 7}


def test_an_async_step_that_gets_no_callback_times_out_and_is_retried():
    run = SagaRun(async_flow).until_settled()
    run.elapse(60).until_settled()
    assert run.step("wait").attempts == 2 and run.step("wait").status == "waiting"


# --- the order saga, as a saga author would test it (docs/WRITING_SAGAS.md) ---


@pytest.mark.django_db
def test_the_checkout_of_a_customer_who_cannot_pay_gives_the_stock_back(catalog):
    # given an order placed by a customer with 5.00 on her account
    order, saga = order_place(customer="pat", items=KB)
    # when its saga runs in-process, the payment refused by the real payments service
    run = SagaRun(checkout, payload=saga.payload, saga_id=saga.pk, database=True).until_settled()
    # then the stock is released and the order cancelled, newest effect first
    assert run.status == "compensated"
    assert run.compensated == ["reserve_stock", "create_order"]
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert Product.objects.get(sku="KB").stock == 10


@pytest.mark.django_db
def test_a_reservation_that_always_times_out_is_released_anyway(catalog):
    order, saga = order_place(customer="ann", items=KB)
    run = SagaRun(checkout, payload=saga.payload, saga_id=saga.pk, database=True)
    run.time_out("reserve_stock").until_settled()
    assert run.step("reserve_stock").attempts == 3
    assert run.compensated == ["reserve_stock", "create_order"]  # its outcome was unknown: undone too


@pytest.mark.django_db
def test_a_confirmed_order_records_and_mails_what_was_charged(catalog):
    order, saga = order_place(customer="ann", items=KB, coupon="TEN")
    run = SagaRun(checkout, payload=saga.payload, saga_id=saga.pk, database=True).until_settled()
    assert run.status == "completed"
    order.refresh_from_db()
    assert (order.total, order.discount, order.charged) == (Decimal("178.00"), Decimal("10.00"), Decimal("168.00"))
    (confirmation,) = mail.outbox
    assert "Subtotal: 178.00\nDiscount: 10.00\nCharged: 168.00" in confirmation.body
