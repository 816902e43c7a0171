"""Orders in the choreographed checkout: the flow, OrderCreated, confirm on PaymentSucceeded,
notify on OrderConfirmed, and the commands the supervisor may request (cancel, notify again).

Only the public API of sagaops.choreography is used (the bus and the flow registry).
"""

from decimal import Decimal

from orders.exceptions import BUSINESS_ERRORS, OrderStateError
from orders.schemas import CheckoutPayload
from orders.services import CHECKOUT_CHOREOGRAPHED, SERVICE, order_cancel, order_confirm, order_notify
from sagaops.choreography.bus import BusEvent, command, handles, report_failure
from sagaops.choreography.flows import Expect, Flow, register_flow

checkout = register_flow(
    Flow(
        CHECKOUT_CHOREOGRAPHED,
        expects=(
            Expect("create_order", event="OrderCreated", service=SERVICE, undo=("orders.cancel",)),
            Expect("reserve_stock", event="StockReserved", service="inventory", undo=("inventory.release",)),
            Expect(
                "charge_payment",
                event="PaymentSucceeded",
                service="payments",
                undo=("payments.refund", "payments.coupon_release"),
            ),
            Expect("confirm_order", event="OrderConfirmed", service=SERVICE, pivot=True),
            Expect("notify_customer", event="CustomerNotified", service=SERVICE),
        ),
        description="Place an order by events: inventory reserves, payments charge, orders confirm and notify.",
        payload_schema=CheckoutPayload,
    )
)


def _report(event: BusEvent, code: str, step: str, error: Exception) -> None:
    detail = {
        "saga_id": event.payload.get("saga_id"),
        "order_id": event.payload.get("order_id"),
        "step": step,
        "error": str(error),
    }
    report_failure(service=SERVICE, code=code, correlation_id=event.correlation_id, detail=detail)


@handles("PaymentSucceeded", group=SERVICE)
def confirm_on_payment(event: BusEvent) -> None:
    (order_id,) = event.require("order_id")
    try:
        order = order_confirm(
            order_id=int(order_id),
            discount=Decimal(event.payload.get("discount") or "0"),
            charged=Decimal(event.payload["charged"]) if event.payload.get("charged") else None,
        )
    except BUSINESS_ERRORS as error:
        _report(event, "confirm_refused", "confirm_order", error)
        return
    event.follow("OrderConfirmed", {**event.payload, "status": order.status}, source=SERVICE)


def _notify(event: BusEvent, order_id) -> dict:
    order = order_notify(order_id=int(order_id))
    payload = {**event.payload, "notified_at": order.notified_at.isoformat()}
    event.follow("CustomerNotified", payload, source=SERVICE)
    return {"order_id": order.pk, "notified_at": payload["notified_at"]}


@handles("OrderConfirmed", group=SERVICE)
def notify_on_confirmed(event: BusEvent) -> None:
    (order_id,) = event.require("order_id")
    try:
        _notify(event, order_id)
    except Exception as error:  # a mail server down: the supervisor's rule retries this step only
        _report(event, "notify_failed", "notify_customer", error)


@command("orders.notify_customer", group=SERVICE, refusals=BUSINESS_ERRORS)
def notify_again(event: BusEvent) -> dict:
    (order_id,) = event.require("order_id", subject=True)
    return _notify(event, order_id)


@command("orders.cancel", group=SERVICE, refusals=(OrderStateError,))
def cancel(event: BusEvent) -> dict:
    (order_id,) = event.require("order_id", subject=True)
    order = order_cancel(order_id=int(order_id))
    return {"order_id": order.pk, "status": order.status}
