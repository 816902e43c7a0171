import re
from decimal import Decimal

import pytest
from django.db import IntegrityError

from payments.exceptions import (
    CouponAlreadyUsed,
    InsufficientFunds,
    InvalidAmount,
    PaymentRefunded,
    UnknownAccount,
    UnknownCoupon,
)
from payments.models import Account, Coupon, Payment
from payments.services import payment_charge, payment_refund
from sagaops.exceptions import InjectedFault
from sagaops.faults import set_redis_spec
from tests.inventory.concurrency import run_concurrently
from tests.payments.factories import AccountFactory, CouponFactory

pytestmark = pytest.mark.django_db


def balance(customer: str) -> Decimal:
    return Account.objects.get(customer=customer).balance


def test_charge_debits_the_account():
    AccountFactory(customer="ann", balance=Decimal("100.00"))

    result = payment_charge(reference="p1", customer="ann", amount="30.00")

    assert result == {
        "reference": "p1",
        "status": "charged",
        "customer": "ann",
        "amount": "30.00",
        "discount": "0.00",
        "charged": "30.00",
        "coupon": None,
        "nothing_to_undo": False,
    }
    assert balance("ann") == Decimal("70.00")


def test_charge_replay_returns_the_same_result_without_charging_again():
    AccountFactory(customer="ann", balance=Decimal("100.00"))
    first = payment_charge(reference="p1", customer="ann", amount=Decimal("30.00"))

    again = payment_charge(reference="p1", customer="ann", amount=Decimal("30.00"))

    assert again == first
    assert balance("ann") == Decimal("70.00")


def test_a_coupon_takes_its_discount_off_and_is_marked_used():
    AccountFactory(customer="ann", balance=Decimal("100.00"))
    CouponFactory(code="TEN", discount=Decimal("10.00"))

    result = payment_charge(reference="p1", customer="ann", amount="30.00", coupon_code="TEN")

    assert (result["discount"], result["charged"], result["coupon"]) == ("10.00", "20.00", "TEN")
    assert balance("ann") == Decimal("80.00")
    assert Coupon.objects.get(code="TEN").used_by_reference == "p1"


def test_a_discount_larger_than_the_amount_charges_nothing():
    AccountFactory(customer="ann", balance=Decimal("100.00"))
    CouponFactory(code="BIG", discount=Decimal("50.00"))

    result = payment_charge(reference="p1", customer="ann", amount="30.00", coupon_code="BIG")

    assert result["charged"] == "0.00"
    assert balance("ann") == Decimal("100.00")


def test_insufficient_funds_charges_nothing_and_keeps_the_coupon_free():
    AccountFactory(customer="ann", balance=Decimal("10.00"))
    CouponFactory(code="FIVE", discount=Decimal("5.00"))

    with pytest.raises(InsufficientFunds, match=re.escape("ann needs 25.00, has 10.00")):
        payment_charge(reference="p1", customer="ann", amount="30.00", coupon_code="FIVE")

    assert balance("ann") == Decimal("10.00")
    assert Coupon.objects.get(code="FIVE").used_by_reference is None
    assert not Payment.objects.filter(reference="p1").exists()


def test_a_used_coupon_is_refused():
    AccountFactory(customer="ann")
    AccountFactory(customer="ben")
    CouponFactory(code="ONCE")
    payment_charge(reference="p1", customer="ann", amount="30.00", coupon_code="ONCE")

    with pytest.raises(CouponAlreadyUsed, match="coupon ONCE has already been used"):
        payment_charge(reference="p2", customer="ben", amount="30.00", coupon_code="ONCE")

    assert balance("ben") == Decimal("100.00")


def test_an_unknown_coupon_is_refused():
    AccountFactory(customer="ann")

    with pytest.raises(UnknownCoupon, match="unknown coupon: NOPE"):
        payment_charge(reference="p1", customer="ann", amount="30.00", coupon_code="NOPE")


def test_an_unknown_account_is_refused():
    with pytest.raises(UnknownAccount, match="no account for customer ghost"):
        payment_charge(reference="p1", customer="ghost", amount="30.00")


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "abc", 1.5, "NaN", "1e30", "10000000000", "Infinity"])
def test_a_bad_amount_is_a_value_error(amount):
    AccountFactory(customer="ann")

    with pytest.raises(InvalidAmount) as error:
        payment_charge(reference="p1", customer="ann", amount=amount)

    assert isinstance(error.value, ValueError)


def test_refund_credits_the_account_and_frees_the_coupon():
    AccountFactory(customer="ann", balance=Decimal("100.00"))
    CouponFactory(code="TEN", discount=Decimal("10.00"))
    payment_charge(reference="p1", customer="ann", amount="30.00", coupon_code="TEN")

    result = payment_refund(reference="p1")

    assert (result["status"], result["nothing_to_undo"]) == ("refunded", False)
    assert balance("ann") == Decimal("100.00")
    assert Coupon.objects.get(code="TEN").used_by_reference is None


def test_refund_replay_credits_only_once():
    AccountFactory(customer="ann", balance=Decimal("100.00"))
    payment_charge(reference="p1", customer="ann", amount="30.00")
    first = payment_refund(reference="p1")

    again = payment_refund(reference="p1")

    assert again == first
    assert balance("ann") == Decimal("100.00")


def test_refund_of_an_unknown_reference_succeeds_with_nothing_to_undo():
    result = payment_refund(reference="never-charged")

    assert (result["status"], result["nothing_to_undo"], result["charged"]) == ("refunded", True, "0.00")


def test_a_late_charge_after_its_refund_is_refused_and_takes_no_money():
    AccountFactory(customer="ann", balance=Decimal("100.00"))
    payment_refund(reference="p1")  # the charge timed out; the saga compensated first

    with pytest.raises(PaymentRefunded, match="p1"):
        payment_charge(reference="p1", customer="ann", amount="30.00")

    assert balance("ann") == Decimal("100.00")


def test_the_database_refuses_a_negative_balance():
    account = AccountFactory(balance=Decimal("0"))
    account.balance = Decimal("-0.01")

    with pytest.raises(IntegrityError):
        account.save()


def test_charge_calls_the_fault_injection_point():
    AccountFactory(customer="ann", balance=Decimal("100.00"))
    set_redis_spec("payments.charge=error:1")

    with pytest.raises(InjectedFault):
        payment_charge(reference="p1", customer="ann", amount="30.00")

    assert balance("ann") == Decimal("100.00")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_orders_with_one_coupon_exactly_one_gets_it():
    AccountFactory(customer="ann", balance=Decimal("100.00"))
    AccountFactory(customer="ben", balance=Decimal("100.00"))
    CouponFactory(code="ONCE", discount=Decimal("10.00"))

    outcomes = run_concurrently(
        lambda: payment_charge(reference="p1", customer="ann", amount="30.00", coupon_code="ONCE"),
        lambda: payment_charge(reference="p2", customer="ben", amount="30.00", coupon_code="ONCE"),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["CouponAlreadyUsed", "dict"]
    winner = next(o for o in outcomes if isinstance(o, dict))
    assert Coupon.objects.get(code="ONCE").used_by_reference == winner["reference"]
    assert balance("ann") + balance("ben") == Decimal("180.00")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_charges_of_one_reference_charge_once():
    AccountFactory(customer="ann", balance=Decimal("100.00"))

    outcomes = run_concurrently(
        lambda: payment_charge(reference="p1", customer="ann", amount="30.00"),
        lambda: payment_charge(reference="p1", customer="ann", amount="30.00"),
    )

    assert outcomes[0] == outcomes[1]
    assert balance("ann") == Decimal("70.00")
