import pytest
from django.db import IntegrityError

from inventory.exceptions import (
    InvalidItems,
    InvalidQuantity,
    OutOfStock,
    ReservationReleased,
    UnknownProduct,
)
from inventory.models import Product, Reservation
from inventory.services import reservation_release, reservation_reserve
from sagaops.exceptions import InjectedFault
from sagaops.faults import set_redis_spec
from tests.inventory.concurrency import run_concurrently
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db


def stock(sku: str) -> int:
    return Product.objects.get(sku=sku).stock


def test_reserve_takes_stock_and_reports_the_items():
    ProductFactory(sku="A", stock=5)

    result = reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 2}])

    assert result == {
        "reference": "r1",
        "status": "active",
        "items": [{"sku": "A", "quantity": 2}],
        "nothing_to_undo": False,
    }
    assert stock("A") == 3


def test_reserve_replay_returns_the_same_result_without_taking_more():
    ProductFactory(sku="A", stock=5)
    first = reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 2}])

    again = reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 2}])

    assert again == first
    assert stock("A") == 3


def test_reserve_sums_duplicate_skus():
    ProductFactory(sku="A", stock=5)

    result = reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}])

    assert result["items"] == [{"sku": "A", "quantity": 3}]
    assert stock("A") == 2


def test_out_of_stock_names_the_sku_and_takes_nothing():
    ProductFactory(sku="A", stock=5)
    ProductFactory(sku="B", stock=1)

    with pytest.raises(OutOfStock, match="out of stock: B") as error:
        reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 2}])

    assert (error.value.sku, error.value.requested, error.value.available) == ("B", 2, 1)
    assert (stock("A"), stock("B")) == (5, 1)
    assert not Reservation.objects.filter(reference="r1").exists()


def test_unknown_product_is_refused():
    with pytest.raises(UnknownProduct, match="unknown product: NOPE"):
        reservation_reserve(reference="r1", items=[{"sku": "NOPE", "quantity": 1}])


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, None])
def test_bad_quantity_is_a_value_error(quantity):
    ProductFactory(sku="A")

    with pytest.raises(InvalidQuantity, match="quantity for A must be a whole number >= 1") as error:
        reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": quantity}])

    assert isinstance(error.value, ValueError)


def test_empty_items_are_refused():
    with pytest.raises(InvalidItems, match="at least one item"):
        reservation_reserve(reference="r1", items=[])


def test_release_gives_the_stock_back():
    ProductFactory(sku="A", stock=5)
    reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 2}])

    result = reservation_release(reference="r1")

    assert result["status"] == "released"
    assert result["nothing_to_undo"] is False
    assert stock("A") == 5


def test_release_replay_gives_nothing_back_twice():
    ProductFactory(sku="A", stock=5)
    reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 2}])
    first = reservation_release(reference="r1")

    again = reservation_release(reference="r1")

    assert again == first
    assert stock("A") == 5


def test_release_of_an_unknown_reference_succeeds_with_nothing_to_undo():
    result = reservation_release(reference="never-reserved")

    assert result == {"reference": "never-reserved", "status": "released", "items": [], "nothing_to_undo": True}


def test_a_late_reserve_after_its_release_is_refused_and_takes_no_stock():
    ProductFactory(sku="A", stock=5)
    reservation_release(reference="r1")  # the reserve timed out; the saga compensated first

    with pytest.raises(ReservationReleased, match="r1"):
        reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 2}])

    assert stock("A") == 5


def test_the_database_refuses_negative_stock():
    product = ProductFactory(stock=0)
    product.stock = -1

    with pytest.raises(IntegrityError):
        product.save()


def test_reserve_calls_the_fault_injection_point():
    ProductFactory(sku="A", stock=5)
    set_redis_spec("inventory.reserve=error:1")

    with pytest.raises(InjectedFault):
        reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 1}])

    assert stock("A") == 5


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reserves_of_the_last_unit_exactly_one_wins():
    ProductFactory(sku="LAST", stock=1)

    outcomes = run_concurrently(
        lambda: reservation_reserve(reference="o1", items=[{"sku": "LAST", "quantity": 1}]),
        lambda: reservation_reserve(reference="o2", items=[{"sku": "LAST", "quantity": 1}]),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["OutOfStock", "dict"]
    assert stock("LAST") == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_reserve_and_release_of_one_reference_never_leaks_stock():
    ProductFactory(sku="A", stock=3)

    run_concurrently(
        lambda: reservation_reserve(reference="r1", items=[{"sku": "A", "quantity": 2}]),
        lambda: reservation_release(reference="r1"),
    )

    # Whichever came first, the reference ends released and all the stock is back.
    assert Reservation.objects.get(reference="r1").status == "released"
    assert stock("A") == 3
