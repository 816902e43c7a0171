"""Stock reservations, idempotent on the caller's reference.

A reference is claimed by inserting its Reservation row first: two concurrent calls with the same
reference serialize on the unique index, and the loser sees the winner's row. Product rows are
locked in sku order so concurrent reservations of overlapping baskets cannot deadlock.
"""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from inventory.exceptions import (
    InvalidItems,
    InvalidQuantity,
    OutOfStock,
    ReservationReleased,
    UnknownProduct,
)
from inventory.models import Product, Reservation, ReservationLine
from sagaops.faults import fault_point


def _items_normalize(items: Any) -> dict[str, int]:
    """Validate `[{"sku", "quantity"}, ...]` into {sku: quantity}, sorted by sku, duplicates summed."""
    if not isinstance(items, list | tuple) or not items:
        raise InvalidItems("at least one item is required")
    wanted: dict[str, int] = {}
    for index, item in enumerate(items):
        sku = item.get("sku") if isinstance(item, dict) else None
        if not isinstance(sku, str) or not sku:
            raise InvalidItems(f"item {index} has no sku")
        quantity = item.get("quantity")
        # bool is an int subclass; True is not a quantity.
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise InvalidQuantity(sku, quantity)
        wanted[sku] = wanted.get(sku, 0) + quantity
    return dict(sorted(wanted.items()))


def _products_lock(skus: list[str]) -> dict[str, Product]:
    """Lock the products in sku order (the one global lock order); unknown sku -> UnknownProduct."""
    products = {p.sku: p for p in Product.objects.select_for_update().filter(sku__in=skus).order_by("sku")}
    for sku in skus:
        if sku not in products:
            raise UnknownProduct(sku)
    return products


def _reservation_result(reservation: Reservation) -> dict:
    lines = reservation.lines.select_related("product").order_by("product__sku")
    items = [{"sku": line.product.sku, "quantity": line.quantity} for line in lines]
    return {
        "reference": reservation.reference,
        "status": reservation.status,
        "items": items,
        # A released reservation without lines is a tombstone: there was never anything to undo.
        "nothing_to_undo": reservation.status == Reservation.Status.RELEASED and not items,
    }


def _stock_take(*, reservation: Reservation, wanted: dict[str, int]) -> None:
    products = _products_lock(list(wanted))
    for sku, quantity in wanted.items():
        product = products[sku]
        if product.stock < quantity:
            raise OutOfStock(sku, quantity, product.stock)
    for sku, quantity in wanted.items():
        Product.objects.filter(pk=products[sku].pk).update(stock=F("stock") - quantity)
    ReservationLine.objects.bulk_create(
        ReservationLine(reservation=reservation, product=products[sku], quantity=quantity)
        for sku, quantity in wanted.items()
    )


@fault_point("inventory.reserve")
@transaction.atomic
def reservation_reserve(*, reference: str, items: list[dict]) -> dict:
    """Take stock for `items` under `reference`. A replay returns the same result and takes nothing.

    Raises UnknownProduct, OutOfStock, InvalidItems/InvalidQuantity (ValueError), or
    ReservationReleased when the reference was already released (a late reserve after its undo).
    """
    wanted = _items_normalize(items)
    reservation, created = Reservation.objects.get_or_create(reference=reference)
    if not created:
        if reservation.status == Reservation.Status.RELEASED:
            raise ReservationReleased(reference)
        return _reservation_result(reservation)
    # Any failure below rolls back the claimed row too, so a later attempt can try again.
    _stock_take(reservation=reservation, wanted=wanted)
    return _reservation_result(reservation)


@fault_point("inventory.release")
@transaction.atomic
def reservation_release(*, reference: str) -> dict:
    """Give back the stock held under `reference`. Idempotent.

    A reference never reserved is released as a tombstone ("nothing to undo"), so a reserve
    that arrives later with that reference is refused instead of taking stock.
    """
    reservation, created = Reservation.objects.get_or_create(
        reference=reference, defaults={"status": Reservation.Status.RELEASED}
    )
    if created:
        return _reservation_result(reservation)
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status == Reservation.Status.RELEASED:
        return _reservation_result(reservation)
    lines = list(reservation.lines.select_related("product").order_by("product__sku"))
    _products_lock([line.product.sku for line in lines])
    for line in lines:
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
    reservation.status = Reservation.Status.RELEASED
    reservation.save(update_fields=["status", "updated"])
    return _reservation_result(reservation)


@transaction.atomic
def product_ensure(*, sku: str, name: str, price: Decimal, stock: int) -> tuple[Product, bool]:
    """Create a catalog product if it is missing; an existing one is left as it is (seeding)."""
    return Product.objects.get_or_create(sku=sku, defaults={"name": name, "price": price, "stock": stock})
