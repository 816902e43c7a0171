"""The checkout saga's step functions: each takes a StepContext and returns a JSON-able dict.

Remote steps pass `ctx.idempotency_key` to the participant as the reference it dedupes on;
their compensations pass `ctx.action_key`, the forward step's key, which names what to undo.
"""

from decimal import Decimal

from orders import participants
from orders.exceptions import OrderStateError
from orders.models import Order
from orders.selectors import order_get
from orders.services import order_cancel, order_confirm, order_notify
from sagaops.definitions import StepContext


def _order_id(ctx: StepContext) -> int:
    return int(ctx.payload["order_id"])


def _order_result(order: Order) -> dict:
    return {"order_id": order.pk, "status": order.status}


def _own_order(ctx: StepContext) -> Order | None:
    """The order this saga was started for; None if the payload names another saga's order."""
    order = order_get(order_id=_order_id(ctx))
    return order if str(order.saga_id) == ctx.saga_id else None


def create_order(ctx: StepContext) -> dict:
    """The order row was written with the saga, in one transaction, by order_place.

    This step makes it the saga's first undoable effect (its compensation cancels it), refuses an
    order that was cancelled before the saga got going or that belongs to another saga, and hands
    the later steps the order's own customer, lines and total (never the caller's payload).
    """
    order = _own_order(ctx)
    if order is None:
        raise OrderStateError(_order_id(ctx), "owned by another saga", "check out")
    if order.status == Order.Status.CANCELLED:
        raise OrderStateError(order.pk, order.status, "check out")
    items = [{"sku": line.sku, "quantity": line.quantity} for line in order.lines.all()]
    return {
        **_order_result(order),
        "customer": order.customer,
        "items": items,
        "coupon": order.coupon or None,
        "total": str(order.total),
    }


def cancel_order(ctx: StepContext) -> dict:
    order = _own_order(ctx)
    if order is None:
        return {"order_id": _order_id(ctx), "nothing_to_undo": True}
    return _order_result(order_cancel(order_id=order.pk))


def reserve_stock(ctx: StepContext) -> dict:
    order = ctx.results["create_order"]
    return participants.reserve_stock(ctx.idempotency_key, order["items"], ctx.correlation_id)


def release_stock(ctx: StepContext) -> dict:
    return participants.release_stock(ctx.action_key, ctx.correlation_id)


def charge_payment(ctx: StepContext) -> dict:
    order = ctx.results["create_order"]
    return participants.charge(
        ctx.idempotency_key, order["customer"], Decimal(order["total"]), order["coupon"], ctx.correlation_id
    )


def refund_payment(ctx: StepContext) -> dict:
    return participants.refund(ctx.action_key, ctx.correlation_id)


def confirm_order(ctx: StepContext) -> dict:
    payment = ctx.results["charge_payment"]
    order = order_confirm(
        order_id=_order_id(ctx), discount=Decimal(payment["discount"]), charged=Decimal(payment["charged"])
    )
    return {**_order_result(order), "charged": str(order.charged)}


def notify_customer(ctx: StepContext) -> dict:
    order = order_notify(order_id=_order_id(ctx))
    return {**_order_result(order), "notified_at": order.notified_at.isoformat()}
