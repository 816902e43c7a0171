"""Payments in the choreographed checkout: charge on StockReserved; refund or release a coupon when asked.

Only the public bus API of sagaops is used (sagaops.choreography.bus).
"""

from payments.exceptions import BUSINESS_ERRORS
from payments.services import coupon_release, payment_charge, payment_refund
from sagaops.choreography.bus import BusEvent, command, error_code, handles, report_failure

SERVICE = "payments"


def payment_reference(saga_id: str) -> str:
    # The orchestrated step's key too, so orders.invariants checks both kinds of checkout alike.
    return f"{saga_id}:charge_payment"


@handles("StockReserved", group=SERVICE)
def charge_on_stock_reserved(event: BusEvent) -> None:
    saga_id, order_id, customer, total = event.require("saga_id", "order_id", "customer", "total")
    try:
        payment = payment_charge(
            reference=payment_reference(saga_id),
            customer=customer,
            amount=total,
            coupon_code=event.payload.get("coupon") or None,
        )
    except BUSINESS_ERRORS as error:
        detail = {"saga_id": saga_id, "order_id": order_id, "step": "charge_payment", "error": str(error)}
        report_failure(service=SERVICE, code=error_code(error), correlation_id=event.correlation_id, detail=detail)
        return
    payload = {
        **event.payload,
        "payment": payment["reference"],
        "discount": payment["discount"],
        "charged": payment["charged"],
    }
    event.follow("PaymentSucceeded", payload, source=SERVICE)


@command("payments.refund", group=SERVICE)
def refund(event: BusEvent) -> dict:
    (saga_id,) = event.require("saga_id", subject=True)
    return payment_refund(reference=payment_reference(saga_id))


@command("payments.coupon_release", group=SERVICE)
def release_coupon(event: BusEvent) -> dict:
    (saga_id,) = event.require("saga_id", subject=True)
    return coupon_release(reference=payment_reference(saga_id))
