"""What must always hold across the order saga's participants, however sagas end.

`Ledger.take()` records money and stock before a run; `check_invariants(before)` lists every
violation after it (an empty list means money and stock are conserved and each effect counted once).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Sum

from inventory.models import Product, ReservationLine
from orders.models import Order
from payments.models import Account, Payment


@dataclass(frozen=True)
class Ledger:
    money: Decimal  # account balances plus what charged payments hold
    stock: dict[str, int]  # per sku: on the shelf plus actively reserved

    @classmethod
    def take(cls) -> Ledger:
        balances = Account.objects.aggregate(total=Sum("balance"))["total"] or Decimal("0")
        return cls(money=balances + _charged_total(), stock=_stock_with_reservations())


def _charged_total() -> Decimal:
    charged = Payment.objects.filter(status=Payment.Status.CHARGED)
    return charged.aggregate(total=Sum(F("amount") - F("discount")))["total"] or Decimal("0")


def _stock_with_reservations() -> dict[str, int]:
    totals = Counter(dict(Product.objects.values_list("sku", "stock")))
    active = ReservationLine.objects.filter(reservation__status="active")
    for sku, quantity in active.values_list("product__sku", "quantity"):
        totals[sku] += quantity
    return dict(totals)


def check_invariants(before: Ledger) -> list[str]:
    after = Ledger.take()
    problems = []
    if after.money != before.money:
        problems.append(f"money: {before.money} before, {after.money} after")
    for sku in sorted(set(before.stock) | set(after.stock)):
        if before.stock.get(sku, 0) != after.stock.get(sku, 0):
            problems.append(f"stock of {sku}: {before.stock.get(sku, 0)} before, {after.stock.get(sku, 0)} after")
    return problems + _coupon_problems() + _order_problems()


def _coupon_problems() -> list[str]:
    reused = (
        Payment.objects.filter(status=Payment.Status.CHARGED, coupon__isnull=False)
        .values("coupon__code")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    return [f"coupon {row['coupon__code']} used by {row['n']} charged payments" for row in reused]


def _order_problems() -> list[str]:
    """A confirmed order holds exactly one charge; a cancelled one holds none."""
    problems = []
    charged = Counter(Payment.objects.filter(status=Payment.Status.CHARGED).values_list("reference", flat=True))
    for order_id, saga_id, status in Order.objects.values_list("id", "saga_id", "status"):
        held = charged.get(f"{saga_id}:charge_payment", 0)
        if status == Order.Status.CONFIRMED and held != 1:
            problems.append(f"order {order_id} is confirmed but holds {held} charges")
        if status == Order.Status.CANCELLED and held:
            problems.append(f"order {order_id} is cancelled but still charged")
    return problems
