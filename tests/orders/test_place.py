import re
from decimal import Decimal

import pytest

from orders.exceptions import InvalidOrder
from orders.models import Order
from orders.services import order_place
from sagaops.exceptions import IdempotencyConflict, InjectedFault
from sagaops.faults import set_redis_spec

pytestmark = pytest.mark.usefixtures("catalog")

ITEMS = [{"sku": "KB", "quantity": 1}, {"sku": "MS", "quantity": 2}]


def test_place_creates_a_pending_order_priced_from_the_catalog():
    order, _ = order_place(customer="ann", items=ITEMS)

    assert order.status == Order.Status.PENDING
    assert order.total == Decimal("148.00")
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines.order_by("id")] == [
        ("KB", 1, Decimal("89.00")),
        ("MS", 2, Decimal("29.50")),
    ]


def test_place_starts_the_checkout_saga_with_a_json_payload():
    order, saga = order_place(customer="ann", items=ITEMS, coupon="TEN")

    order.refresh_from_db()
    assert order.saga_id == saga.id
    assert saga.type == "order.checkout"
    assert saga.context["payload"] == {
        "order_id": order.pk,
        "customer": "ann",
        "items": ITEMS,
        "coupon": "TEN",
        "total": "148.00",
    }


def test_place_sums_duplicate_skus_into_one_line():
    order, _ = order_place(customer="ann", items=[{"sku": "MS", "quantity": 1}, {"sku": "MS", "quantity": 2}])

    assert list(order.lines.values_list("sku", "quantity")) == [("MS", 3)]


def test_a_replayed_idempotency_key_returns_the_original_order_and_saga():
    first_order, first_saga = order_place(customer="ann", items=ITEMS, idempotency_key="k1")

    order, saga = order_place(customer="ann", items=ITEMS, idempotency_key="k1")

    assert (order.pk, saga.id) == (first_order.pk, first_saga.id)
    assert Order.objects.count() == 1


def test_a_different_request_under_a_used_key_is_a_conflict():
    order_place(customer="ann", items=ITEMS, idempotency_key="k1")

    with pytest.raises(IdempotencyConflict):
        order_place(customer="ann", items=ITEMS[:1], idempotency_key="k1")

    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"customer": "", "items": ITEMS}, "customer"),
        ({"customer": "ann", "items": []}, "items"),
        ({"customer": "ann", "items": ["KB"]}, "items[0]"),
        ({"customer": "ann", "items": [{"quantity": 1}]}, "items[0].sku"),
        ({"customer": "ann", "items": [{"sku": "KB", "quantity": 0}]}, "items[0].quantity"),
        ({"customer": "ann", "items": [{"sku": "KB", "quantity": "1"}]}, "items[0].quantity"),
        ({"customer": "ann", "items": [{"sku": "KB", "quantity": 1}, {"sku": "XX", "quantity": 1}]}, "items[1].sku"),
        ({"customer": "ann", "items": ITEMS, "coupon": 5}, "coupon"),
        ({"customer": "ann", "items": [{"sku": "KB", "quantity": 2**40}]}, "items[0].quantity"),
        ({"customer": "a" * 201, "items": ITEMS}, "customer"),
        ({"customer": "ann", "items": ITEMS, "coupon": "C" * 65}, "coupon"),
    ],
)
def test_invalid_input_is_refused_naming_the_field(request_, field):
    with pytest.raises(InvalidOrder) as error:
        order_place(**request_)

    assert error.value.field == field
    assert str(error.value).startswith(f"{field}: ")
    assert isinstance(error.value, ValueError)
    assert not Order.objects.exists()


def test_an_unknown_sku_is_named_in_the_message():
    with pytest.raises(InvalidOrder, match=re.escape("items[0].sku: unknown product 'NOPE'")):
        order_place(customer="ann", items=[{"sku": "NOPE", "quantity": 1}])


def test_a_fault_at_order_creation_leaves_nothing_behind():
    set_redis_spec("orders.create=error:1")

    with pytest.raises(InjectedFault):
        order_place(customer="ann", items=ITEMS)

    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_make_one_order_and_one_saga():
    from tests.inventory.concurrency import run_concurrently

    outcomes = run_concurrently(
        lambda: order_place(customer="ann", items=ITEMS, idempotency_key="k1"),
        lambda: order_place(customer="ann", items=ITEMS, idempotency_key="k1"),
    )

    (order_a, saga_a), (order_b, saga_b) = outcomes
    assert (order_a.pk, saga_a.id) == (order_b.pk, saga_b.id)
    assert Order.objects.count() == 1
