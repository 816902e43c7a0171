"""Charges and refunds, idempotent on the caller's reference.

A reference is claimed by inserting its Payment row first: two concurrent calls with the same
reference serialize on the unique index, and the loser sees the winner's row. Rows are then
locked in one order everywhere (payment, coupon, account) so charges and refunds cannot deadlock.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction

from payments.exceptions import (
    CouponAlreadyUsed,
    InsufficientFunds,
    InvalidAmount,
    PaymentRefunded,
    UnknownAccount,
    UnknownCoupon,
)
from payments.models import Account, Coupon, Payment
from sagaops.faults import fault_point

CENT = Decimal("0.01")


MAX_AMOUNT = Decimal(10) ** 10


def _amount_parse(amount: Decimal | str | int) -> Decimal:
    # Floats are refused: money that went through binary floating point is already wrong.
    if isinstance(amount, float | bool):
        raise InvalidAmount(amount)
    try:
        value = Decimal(amount)
        # Within what an amount column holds (12 digits, 2 of them decimal) and in whole cents.
        if not value.is_finite() or not 0 < value < MAX_AMOUNT or value != value.quantize(CENT):
            raise InvalidAmount(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidAmount(amount) from None
    return value.quantize(CENT)


def _money(value: Decimal) -> str:
    # Fixed two places, so a replay (read back from the database) returns the identical result.
    return str(value.quantize(CENT))


def _payment_result(payment: Payment) -> dict:
    return {
        "reference": payment.reference,
        "status": payment.status,
        "customer": payment.customer,
        "amount": _money(payment.amount),
        "discount": _money(payment.discount),
        "charged": _money(payment.charged),
        "coupon": payment.coupon.code if payment.coupon_id else None,
        "nothing_to_undo": payment.is_tombstone,
    }


def _coupon_take(*, code: str, reference: str) -> Coupon:
    # The row lock makes "is it free?" and "take it" one step: of two concurrent orders with
    # the same coupon, the second waits here and then sees it taken.
    coupon = Coupon.objects.select_for_update().filter(code=code).first()
    if coupon is None:
        raise UnknownCoupon(code)
    if coupon.used_by_reference not in (None, reference):
        raise CouponAlreadyUsed(code)
    coupon.used_by_reference = reference
    coupon.save(update_fields=["used_by_reference"])
    return coupon


def _account_lock(customer: str) -> Account:
    account = Account.objects.select_for_update().filter(customer=customer).first()
    if account is None:
        raise UnknownAccount(customer)
    return account


def _debit(*, payment: Payment, coupon_code: str | None) -> None:
    if coupon_code:
        payment.coupon = _coupon_take(code=coupon_code, reference=payment.reference)
        payment.discount = min(payment.coupon.discount, payment.amount)
    account = _account_lock(payment.customer)
    if account.balance < payment.charged:
        raise InsufficientFunds(payment.customer, payment.charged, account.balance)
    account.balance -= payment.charged
    account.save(update_fields=["balance"])
    payment.save(update_fields=["coupon", "discount", "updated"])


@fault_point("payments.charge")
@transaction.atomic
def payment_charge(*, reference: str, customer: str, amount: Decimal | str, coupon_code: str | None = None) -> dict:
    """Debit `amount` (less the coupon's discount) from the customer's account under `reference`.

    A replay returns the same result and charges nothing. Raises UnknownAccount,
    InsufficientFunds, UnknownCoupon, CouponAlreadyUsed, InvalidAmount (ValueError), or
    PaymentRefunded when the reference was already refunded (a late charge after its undo).
    """
    value = _amount_parse(amount)
    payment, created = Payment.objects.get_or_create(
        reference=reference, defaults={"customer": customer, "amount": value}
    )
    if not created:
        if payment.status == Payment.Status.REFUNDED:
            raise PaymentRefunded(reference)
        return _payment_result(payment)
    # Any failure below rolls back the claimed row too, so a later attempt can try again.
    _debit(payment=payment, coupon_code=coupon_code)
    return _payment_result(payment)


@fault_point("payments.refund")
@transaction.atomic
def payment_refund(*, reference: str) -> dict:
    """Credit back the payment made under `reference` and free its coupon. Idempotent.

    A reference never charged is refunded as a tombstone ("nothing to undo"), so a charge that
    arrives later with that reference is refused instead of taking money.
    """
    payment, created = Payment.objects.get_or_create(reference=reference, defaults={"status": Payment.Status.REFUNDED})
    if created:
        return _payment_result(payment)
    payment = Payment.objects.select_for_update(of=("self",)).select_related("coupon").get(pk=payment.pk)
    if payment.status == Payment.Status.REFUNDED:
        return _payment_result(payment)
    if payment.coupon_id:
        # Conditional: only free the coupon if this payment still holds it.
        Coupon.objects.filter(pk=payment.coupon_id, used_by_reference=reference).update(used_by_reference=None)
    account = _account_lock(payment.customer)
    account.balance += payment.charged
    account.save(update_fields=["balance"])
    payment.status = Payment.Status.REFUNDED
    payment.save(update_fields=["status", "updated"])
    return _payment_result(payment)


@fault_point("payments.coupon_release")
@transaction.atomic
def coupon_release(*, reference: str) -> dict:
    """Free the coupon held under `reference` unless a charged payment still uses it. Idempotent.

    payment_charge takes the coupon and the money in one transaction and payment_refund frees
    it, so this is the supervisor's safety net ("coupon release" in its rules): a charged
    payment keeps its coupon (refund it to free the coupon).
    """
    charged = Payment.objects.filter(reference=reference, status=Payment.Status.CHARGED).exists()
    released = 0 if charged else Coupon.objects.filter(used_by_reference=reference).update(used_by_reference=None)
    return {
        "reference": reference,
        "released": bool(released),
        "kept_by_charge": charged,
        "nothing_to_undo": not released,
    }


@transaction.atomic
def account_ensure(*, customer: str, balance: Decimal) -> tuple[Account, bool]:
    """Open an account if it is missing; an existing one keeps its balance (seeding)."""
    return Account.objects.get_or_create(customer=customer, defaults={"balance": balance})


@transaction.atomic
def coupon_ensure(*, code: str, discount: Decimal) -> tuple[Coupon, bool]:
    """Create a coupon if it is missing; an existing one keeps its state (seeding)."""
    return Coupon.objects.get_or_create(code=code, defaults={"discount": discount})
