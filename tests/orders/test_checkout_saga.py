"""The checkout saga run in-process by the engine's executor (the Celery path is the engine's tests)."""

from decimal import Decimal

import pytest
from django.core import mail

from inventory.models import Product
from orders.models import Order
from orders.services import order_place
from payments.models import Account, Coupon

pytestmark = pytest.mark.usefixtures("catalog")


def checkout(**request) -> tuple[Order, object]:
    from sagaops.services import saga_advance

    order, saga = order_place(**request)
    saga_advance(saga_id=saga.id)
    order.refresh_from_db()
    saga.refresh_from_db()
    return order, saga


def test_a_good_order_completes_confirmed_charged_and_notified():
    order, saga = checkout(customer="ann", items=[{"sku": "KB", "quantity": 2}], coupon="TEN")

    assert (saga.status, order.status) == ("completed", "confirmed")
    assert Product.objects.get(sku="KB").stock == 8
    assert Account.objects.get(customer="ann").balance == Decimal("832.00")
    assert order.notified_at is not None and len(mail.outbox) == 1


def test_a_poor_customer_is_compensated_stock_back_order_cancelled():
    order, saga = checkout(customer="pat", items=[{"sku": "KB", "quantity": 2}])

    assert (saga.status, order.status) == ("compensated", "cancelled")
    assert Product.objects.get(sku="KB").stock == 10
    assert Account.objects.get(customer="pat").balance == Decimal("5.00")
    assert mail.outbox == []


def test_out_of_stock_is_compensated_without_charging():
    order, saga = checkout(customer="ann", items=[{"sku": "MS", "quantity": 11}])

    assert (saga.status, order.status) == ("compensated", "cancelled")
    assert Account.objects.get(customer="ann").balance == Decimal("1000.00")


def test_a_reused_coupon_fails_the_second_order_only():
    Account.objects.filter(customer="pat").update(balance=Decimal("1000.00"))
    first, _ = checkout(customer="ann", items=[{"sku": "MS", "quantity": 1}], coupon="TEN")

    second, saga = checkout(customer="pat", items=[{"sku": "MS", "quantity": 1}], coupon="TEN")

    assert (first.status, second.status, saga.status) == ("confirmed", "cancelled", "compensated")
    assert Coupon.objects.get(code="TEN").used_by_reference.endswith(":charge_payment")
    assert Product.objects.get(sku="MS").stock == 9


def test_an_order_whose_saga_turns_back_before_it_started_is_cancelled():
    from django.contrib.auth.models import User

    from sagaops.services import saga_advance, saga_compensate

    order, saga = order_place(customer="ann", items=[{"sku": "KB", "quantity": 1}])
    saga_compensate(saga_id=saga.id, user=User.objects.create_user("oper"), reason="customer called")
    saga_advance(saga_id=saga.id)

    order.refresh_from_db()
    saga.refresh_from_db()
    assert (saga.status, order.status) == ("compensated", "cancelled")


def test_a_saga_cannot_check_out_another_sagas_order():
    from orders.services import checkout_payload
    from sagaops.services import saga_advance, saga_start

    victim, _ = order_place(customer="ann", items=[{"sku": "KB", "quantity": 2}])
    # given a saga started by hand for the victim's order, claiming a total of 0.01
    forged, _ = saga_start(saga_type="order.checkout", payload={**checkout_payload(victim), "total": "0.01"})

    saga_advance(saga_id=forged.id)

    forged.refresh_from_db()
    victim.refresh_from_db()
    assert forged.status == "compensated"
    assert "owned by another saga" in forged.steps.get(name="create_order").last_error
    assert victim.status == "pending"
    assert Account.objects.get(customer="ann").balance == Decimal("1000.00")
    assert Product.objects.get(sku="KB").stock == 10
