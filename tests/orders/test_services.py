import pytest
from django.core import mail

from orders.exceptions import OrderNotFound, OrderStateError
from orders.models import Order
from orders.services import order_cancel, order_confirm, order_notify
from sagaops.exceptions import InjectedFault
from sagaops.faults import set_redis_spec
from tests.orders.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_confirm_confirms_a_pending_order():
    order = OrderFactory()

    assert order_confirm(order_id=order.pk).status == Order.Status.CONFIRMED


def test_confirm_twice_is_harmless():
    order = OrderFactory(status=Order.Status.CONFIRMED)

    assert order_confirm(order_id=order.pk).status == Order.Status.CONFIRMED


def test_confirm_refuses_a_cancelled_order():
    order = OrderFactory(status=Order.Status.CANCELLED)

    with pytest.raises(OrderStateError, match=f"order {order.pk} is cancelled: cannot confirm it"):
        order_confirm(order_id=order.pk)


def test_confirm_of_a_missing_order_is_refused():
    with pytest.raises(OrderNotFound):
        order_confirm(order_id=999999)


def test_cancel_cancels_a_pending_order_and_twice_is_harmless():
    order = OrderFactory()

    order_cancel(order_id=order.pk)

    assert order_cancel(order_id=order.pk).status == Order.Status.CANCELLED


def test_cancel_refuses_a_confirmed_order():
    order = OrderFactory(status=Order.Status.CONFIRMED)

    with pytest.raises(OrderStateError, match="cannot cancel"):
        order_cancel(order_id=order.pk)


def test_notify_sends_exactly_one_email_even_when_repeated():
    line = OrderLineFactory(order__customer="ann", order__status=Order.Status.CONFIRMED)

    order_notify(order_id=line.order.pk)
    order = order_notify(order_id=line.order.pk)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ann@example.com"]
    assert f"order {order.pk}" in mail.outbox[0].subject
    assert order.notified_at is not None


def test_notify_mails_a_customer_that_is_an_address_as_is():
    order = OrderFactory(customer="zoe@corp.test", status=Order.Status.CONFIRMED)

    order_notify(order_id=order.pk)

    assert mail.outbox[0].to == ["zoe@corp.test"]


def test_notify_refuses_an_unconfirmed_order():
    order = OrderFactory()

    with pytest.raises(OrderStateError, match="cannot notify"):
        order_notify(order_id=order.pk)

    assert mail.outbox == []


def test_a_failing_notify_sends_nothing_and_leaves_it_to_the_retry():
    order = OrderFactory(status=Order.Status.CONFIRMED)
    set_redis_spec("orders.notify=error:1")

    with pytest.raises(InjectedFault):
        order_notify(order_id=order.pk)

    order.refresh_from_db()
    assert (mail.outbox, order.notified_at) == ([], None)
