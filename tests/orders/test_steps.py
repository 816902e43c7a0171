"""The checkout saga's steps, called directly with a hand-made StepContext."""

from decimal import Decimal

import pytest

from inventory.exceptions import OutOfStock
from inventory.models import Product
from orders import steps
from orders.exceptions import OrderStateError
from orders.models import Order
from payments.exceptions import InsufficientFunds
from payments.models import Account
from sagaops.definitions import StepContext, get_definition
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.usefixtures("catalog")

SAGA_ID = "00000000-0000-0000-0000-000000000001"


def ctx(step: str, payload: dict, *, compensating: bool = False) -> StepContext:
    key = f"{SAGA_ID}:{step}" + (":compensate" if compensating else "")
    return StepContext(
        saga_id=SAGA_ID,
        saga_type="order.checkout",
        step=step,
        payload=payload,
        # what create_order hands the later steps: the order's own customer, lines, coupon and total
        results={"create_order": {k: payload.get(k) for k in ("order_id", "customer", "items", "coupon", "total")}},
        attempt=1,
        idempotency_key=key,
        correlation_id="",
    )


def payload(order: Order | None = None, **changes) -> dict:
    base = {
        "order_id": order.pk if order else 0,
        "customer": "ann",
        "items": [{"sku": "KB", "quantity": 2}],
        "coupon": None,
        "total": "178.00",
    }
    return {**base, **changes}


def test_reserve_then_its_compensation_leaves_the_stock_as_it_was():
    steps.reserve_stock(ctx("reserve_stock", payload()))
    assert Product.objects.get(sku="KB").stock == 8

    result = steps.release_stock(ctx("reserve_stock", payload(), compensating=True))

    assert result["items"] == [{"sku": "KB", "quantity": 2}]
    assert Product.objects.get(sku="KB").stock == 10


def test_reserve_lets_out_of_stock_through_for_the_retry_policy():
    with pytest.raises(OutOfStock):
        steps.reserve_stock(ctx("reserve_stock", payload(items=[{"sku": "KB", "quantity": 11}])))


def test_charge_then_its_compensation_leaves_the_balance_as_it_was():
    steps.charge_payment(ctx("charge_payment", payload(coupon="TEN")))
    assert Account.objects.get(customer="ann").balance == Decimal("832.00")

    steps.refund_payment(ctx("charge_payment", payload(coupon="TEN"), compensating=True))

    assert Account.objects.get(customer="ann").balance == Decimal("1000.00")


def test_charge_of_a_poor_customer_is_refused():
    with pytest.raises(InsufficientFunds):
        steps.charge_payment(ctx("charge_payment", payload(customer="pat")))


def test_create_order_refuses_an_order_cancelled_before_the_saga_ran():
    order = OrderFactory(status=Order.Status.CANCELLED, saga_id=SAGA_ID)

    with pytest.raises(OrderStateError, match="is cancelled"):
        steps.create_order(ctx("create_order", payload(order)))


def test_create_order_refuses_another_sagas_order():
    order = OrderFactory(saga_id="00000000-0000-0000-0000-000000000002")

    with pytest.raises(OrderStateError, match="owned by another saga"):
        steps.create_order(ctx("create_order", payload(order)))


def test_confirm_and_notify_steps_return_json_results():
    order = OrderFactory(customer="ann")

    confirm = ctx("confirm_order", payload(order))
    confirm.results["charge_payment"] = {"discount": "10.00", "charged": "79.00"}
    confirmed = steps.confirm_order(confirm)
    notified = steps.notify_customer(ctx("notify_customer", payload(order)))

    assert confirmed == {"order_id": order.pk, "status": "confirmed", "charged": "79.00"}
    order.refresh_from_db()
    assert (str(order.discount), str(order.charged)) == ("10.00", "79.00")
    assert isinstance(notified["notified_at"], str)


def test_the_checkout_saga_is_registered_with_its_pivot_and_business_failures():
    definition = get_definition("order.checkout")

    assert [s.name for s in definition.steps] == [
        "create_order",
        "reserve_stock",
        "charge_payment",
        "confirm_order",
        "notify_customer",
    ]
    assert definition.steps[definition.pivot_index].name == "confirm_order"
    assert not definition.step("reserve_stock").retry.is_retryable(OutOfStock("KB", 1, 0))
    assert not definition.step("charge_payment").retry.is_retryable(InsufficientFunds("pat", 1, 0))
    assert definition.step("notify_customer").compensation is None
