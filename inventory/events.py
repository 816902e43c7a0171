"""Inventory in the choreographed checkout: reserve on OrderCreated, release when asked.

Only the public bus API of sagaops is used (sagaops.choreography.bus).
"""

from inventory.exceptions import BUSINESS_ERRORS
from inventory.services import reservation_release, reservation_reserve
from sagaops.choreography.bus import BusEvent, command, error_code, handles, report_failure

SERVICE = "inventory"


def reservation_reference(saga_id: str) -> str:
    # The orchestrated step's key too: one reference scheme, whichever way the saga runs.
    return f"{saga_id}:reserve_stock"


@handles("OrderCreated", group=SERVICE)
def reserve_on_order_created(event: BusEvent) -> None:
    saga_id, order_id, items = event.require("saga_id", "order_id", "items")
    try:
        reservation = reservation_reserve(reference=reservation_reference(saga_id), items=items)
    except BUSINESS_ERRORS as error:
        detail = {"saga_id": saga_id, "order_id": order_id, "step": "reserve_stock", "error": str(error)}
        report_failure(service=SERVICE, code=error_code(error), correlation_id=event.correlation_id, detail=detail)
        return
    event.follow("StockReserved", {**event.payload, "reservation": reservation["reference"]}, source=SERVICE)


@command("inventory.release", group=SERVICE)
def release_stock(event: BusEvent) -> dict:
    (saga_id,) = event.require("saga_id", subject=True)
    return reservation_release(reference=reservation_reference(saga_id))
