"""Orders: placing one starts the checkout saga; the saga's steps confirm, cancel and notify.

The engine is imported inside the functions that use it: the domain apps must load (and
migrate) without the engine's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders import participants
from orders.exceptions import InvalidOrder, OrderNotFound, OrderStateError
from orders.models import Order, OrderLine
from sagaops.choreography.bus import publish
from sagaops.exceptions import IdempotencyConflict
from sagaops.faults import fault_point
from sagaops.services import saga_start

if TYPE_CHECKING:
    from sagaops.models import Saga

# The name this service publishes and reports under (choreography).
SERVICE = "orders"
CHECKOUT_SAGA = "order.checkout"
# The same checkout run by events (orders/events.py); SAGAOPS_CHECKOUT_MODE or the request chooses.
CHECKOUT_CHOREOGRAPHED = "order.checkout.choreographed"
CHECKOUT_MODES = {"orchestrated": CHECKOUT_SAGA, "choreographed": CHECKOUT_CHOREOGRAPHED}
CENT = Decimal("0.01")
MAX_QUANTITY = 10_000  # per line
MAX_TOTAL = Decimal(10) ** 10  # what the total column holds (12 digits, 2 decimal)


@dataclass(frozen=True)
class _Request:
    customer: str
    lines: dict[str, int]  # sku -> quantity, in request order, duplicates summed
    coupon: str


def _item_validate(index: int, item: Any) -> tuple[str, int]:
    if not isinstance(item, dict):
        raise InvalidOrder(f"items[{index}]", "must be an object with sku and quantity")
    sku, quantity = item.get("sku"), item.get("quantity")
    if not isinstance(sku, str) or not sku.strip():
        raise InvalidOrder(f"items[{index}].sku", "is required")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidOrder(
            f"items[{index}].quantity", f"must be a whole number from 1 to {MAX_QUANTITY}, got {quantity!r}"
        )
    return sku.strip(), quantity


def _request_validate(*, customer: Any, items: Any, coupon: Any) -> _Request:
    if not isinstance(customer, str) or not customer.strip():
        raise InvalidOrder("customer", "is required")
    if len(customer.strip()) > 200:
        raise InvalidOrder("customer", "at most 200 characters")
    if coupon is not None and (not isinstance(coupon, str) or len(coupon.strip()) > 64):
        raise InvalidOrder("coupon", "must be a string of at most 64 characters")
    if not isinstance(items, list | tuple) or not items:
        raise InvalidOrder("items", "at least one item is required")
    lines: dict[str, int] = {}
    for index, item in enumerate(items):
        sku, quantity = _item_validate(index, item)
        lines[sku] = lines.get(sku, 0) + quantity
        # The limit is per product, so it holds across duplicate lines of one sku too.
        if lines[sku] > MAX_QUANTITY:
            raise InvalidOrder(f"items[{index}].quantity", f"at most {MAX_QUANTITY} of {sku} per order in all lines")
    return _Request(customer=customer.strip(), lines=lines, coupon=(coupon or "").strip())


def _prices_lookup(request: _Request) -> dict[str, Decimal]:
    prices = participants.product_prices(list(request.lines))
    for index, sku in enumerate(request.lines):
        if sku not in prices:
            raise InvalidOrder(f"items[{index}].sku", f"unknown product {sku!r}")
    return prices


def checkout_payload(order: Order) -> dict:
    """The saga's start payload, rebuilt identically from the order for a replayed request."""
    return {
        "order_id": order.pk,
        "customer": order.customer,
        "items": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines.order_by("id")],
        "coupon": order.coupon or None,
        "total": str(order.total),
    }


def _order_create(request: _Request, prices: dict[str, Decimal], idempotency_key: str | None) -> Order:
    total = sum((prices[sku] * quantity for sku, quantity in request.lines.items()), Decimal("0"))
    if total >= MAX_TOTAL:
        raise InvalidOrder("items", f"the order total {total} is more than one order may hold")
    order = Order.objects.create(
        customer=request.customer,
        total=total.quantize(CENT),
        coupon=request.coupon,
        idempotency_key=idempotency_key or None,
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, sku=sku, quantity=quantity, unit_price=prices[sku])
        for sku, quantity in request.lines.items()
    )
    return order


def order_created_publish(*, order: Order, saga_id, correlation_id: str) -> None:
    """Start the choreographed checkout (sent when the caller's transaction commits)."""
    payload = {**checkout_payload(order), "saga_id": str(saga_id)}
    publish("OrderCreated", correlation_id=correlation_id, payload=payload, source=SERVICE)


def checkout_saga_type(mode: str | None = None) -> str:
    """The checkout saga for `mode` (default settings.SAGAOPS_CHECKOUT_MODE)."""
    mode = mode or settings.SAGAOPS_CHECKOUT_MODE
    if mode not in CHECKOUT_MODES:
        raise InvalidOrder("mode", f"must be one of {', '.join(CHECKOUT_MODES)}, got {mode!r}")
    return CHECKOUT_MODES[mode]


def _order_replay(
    order: Order, request: _Request, idempotency_key: str, correlation_id: str, saga_type: str = CHECKOUT_SAGA
) -> tuple[Order, Saga]:
    original = _Request(
        customer=order.customer,
        lines={line.sku: line.quantity for line in order.lines.order_by("id")},
        coupon=order.coupon,
    )
    if original != request:
        raise IdempotencyConflict(idempotency_key)
    # Same key, same payload: the engine hands back the saga it started the first time.
    saga, _ = saga_start(
        saga_type=saga_type,
        payload=checkout_payload(order),
        idempotency_key=idempotency_key,
        correlation_id=correlation_id,
    )
    return order, saga


def _order_with_saga(
    request: _Request,
    prices: dict[str, Decimal],
    idempotency_key: str | None,
    correlation_id: str,
    saga_type: str = CHECKOUT_SAGA,
    started_by=None,
) -> tuple[Order, Saga]:
    # One transaction: no order without its saga, no saga without its order.
    with transaction.atomic():
        order = _order_create(request, prices, idempotency_key)
        saga, _ = saga_start(
            saga_type=saga_type,
            payload=checkout_payload(order),
            idempotency_key=idempotency_key,
            correlation_id=correlation_id or f"order:{order.pk}",
            started_by=started_by,
        )
        order.saga_id = saga.id
        order.save(update_fields=["saga_id", "updated"])
        if saga_type == CHECKOUT_CHOREOGRAPHED:
            order_created_publish(order=order, saga_id=saga.id, correlation_id=saga.correlation_id)
    return order, saga


@fault_point("orders.create")
def order_place(
    *,
    customer: str,
    items: list[dict],
    coupon: str | None = None,
    idempotency_key: str | None = None,
    correlation_id: str = "",
    mode: str | None = None,
    started_by=None,
) -> tuple[Order, Saga]:
    """Create a pending order priced from the catalog and start its checkout saga, atomically.

    `mode` "orchestrated" (the engine runs order.checkout) or "choreographed" (the services react
    to OrderCreated, see orders/events.py); default settings.SAGAOPS_CHECKOUT_MODE.
    `started_by` (the API principal) owns the saga and so the order: it alone reads them back.

    Raises InvalidOrder (a ValueError naming the field) for bad input. A replayed
    idempotency key returns the original order and saga; a different request under the same
    key raises sagaops.exceptions.IdempotencyConflict.
    """
    request = _request_validate(customer=customer, items=items, coupon=coupon)
    saga_type = checkout_saga_type(mode)
    if idempotency_key:
        existing = Order.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _order_replay(existing, request, idempotency_key, correlation_id, saga_type)
    prices = _prices_lookup(request)
    try:
        return _order_with_saga(request, prices, idempotency_key, correlation_id, saga_type, started_by)
    except IntegrityError:
        # A concurrent request with the same key committed first: this one is its replay.
        existing = Order.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
        if existing is None:
            raise
        return _order_replay(existing, request, idempotency_key, correlation_id, saga_type)


def _order_lock(order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order


def _order_status_set(order: Order, status: str) -> Order:
    order.status = status
    order.save(update_fields=["status", "updated"])
    return order


@transaction.atomic
def order_cancel(*, order_id: int) -> Order:
    """Cancel a pending order (the checkout saga's compensation). Idempotent."""
    order = _order_lock(order_id)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.status == Order.Status.CONFIRMED:
        raise OrderStateError(order.pk, order.status, "cancel")
    return _order_status_set(order, Order.Status.CANCELLED)


@fault_point("orders.confirm")
@transaction.atomic
def order_confirm(*, order_id: int, discount: Decimal = Decimal("0"), charged: Decimal | None = None) -> Order:
    """Confirm a pending order (the checkout saga's pivot), recording what the payment took off
    and charged. Idempotent; refuses a cancelled order."""
    order = _order_lock(order_id)
    if order.status == Order.Status.CONFIRMED:
        return order
    if order.status == Order.Status.CANCELLED:
        raise OrderStateError(order.pk, order.status, "confirm")
    order.status, order.discount, order.charged = Order.Status.CONFIRMED, discount, charged
    order.save(update_fields=["status", "discount", "charged", "updated"])
    return order


def _recipient(customer: str) -> str:
    return customer if "@" in customer else f"{customer}@example.com"


def _charged(order: Order) -> Decimal:
    return order.charged if order.charged is not None else order.total - order.discount


def _confirmation_send(order: Order) -> None:
    lines = "\n".join(f"  {line.quantity} x {line.sku} at {line.unit_price}" for line in order.lines.order_by("id"))
    send_mail(
        subject=f"Your order {order.pk} is confirmed",
        message=(
            f"Hello {order.customer},\n\nwe have confirmed your order {order.pk}:\n{lines}\n"
            f"Subtotal: {order.total}\nDiscount: {order.discount}\nCharged: {_charged(order)}\n"
        ),
        from_email=None,
        recipient_list=[_recipient(order.customer)],
    )


@fault_point("orders.notify")
@transaction.atomic
def order_notify(*, order_id: int) -> Order:
    """Mail the customer their confirmation, once: a set notified_at means it was sent.

    The mail goes out while the order row is locked, so two concurrent notifies cannot both
    send. If the commit fails after sending, a retry sends again: at least once, never lost.
    """
    order = _order_lock(order_id)
    if order.notified_at is not None:
        return order
    if order.status != Order.Status.CONFIRMED:
        raise OrderStateError(order.pk, order.status, "notify")
    _confirmation_send(order)
    order.notified_at = timezone.now()
    order.save(update_fields=["notified_at", "updated"])
    return order
