"""The checkout saga: create the order, reserve stock, charge, confirm (the pivot), notify.

The engine discovers this module at startup (sagaops.apps autodiscovers `sagas`).
"""

import os
from datetime import timedelta

from inventory.exceptions import BUSINESS_ERRORS as INVENTORY_FAILURES
from orders import provisioning, steps
from orders.exceptions import BUSINESS_ERRORS as ORDER_FAILURES
from orders.schemas import CheckoutPayload
from payments.exceptions import BUSINESS_ERRORS as PAYMENT_FAILURES
from sagaops.definitions import RetryPolicy, SagaDefinition, Step, register

# Seconds a remote call may take before the engine treats it as timed out (ambiguous). Tests
# that exercise timeouts shorten it through the environment.
REMOTE_TIMEOUT = float(os.environ.get("SAGAOPS_CHECKOUT_STEP_TIMEOUT", "10"))

# Local steps fail only on a business rule (e.g. confirm a cancelled order): no point retrying.
LOCAL_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.2, non_retryable=ORDER_FAILURES)

checkout = register(
    SagaDefinition(
        name="order.checkout",
        version=1,
        timeout=timedelta(minutes=10),
        description="Place an order: reserve stock, charge the customer, confirm, notify.",
        payload_schema=CheckoutPayload,
        search_keys=("order_id", "customer"),
        steps=[
            # The order row is written with the saga, so a saga that turns back cancels it even if
            # this step never ran (always_compensate).
            Step(
                "create_order",
                steps.create_order,
                compensation=steps.cancel_order,
                retry=LOCAL_RETRY,
                always_compensate=True,
            ),
            Step(
                "reserve_stock",
                steps.reserve_stock,
                compensation=steps.release_stock,
                kind="remote",
                participant="inventory",
                timeout=REMOTE_TIMEOUT,
                retry=RetryPolicy(max_attempts=3, initial_delay=0.2, non_retryable=INVENTORY_FAILURES),
            ),
            Step(
                "charge_payment",
                steps.charge_payment,
                compensation=steps.refund_payment,
                kind="remote",
                participant="payments",
                timeout=REMOTE_TIMEOUT,
                retry=RetryPolicy(max_attempts=3, initial_delay=0.2, backoff=2.0, non_retryable=PAYMENT_FAILURES),
            ),
            Step("confirm_order", steps.confirm_order, pivot=True, retry=LOCAL_RETRY),
            # Retry-only: after the pivot the order stands, so a failing mail is retried, not undone.
            Step(
                "notify_customer",
                steps.notify_customer,
                kind="remote",
                participant="notifications",
                timeout=REMOTE_TIMEOUT,
                retry=RetryPolicy(max_attempts=5, initial_delay=0.5),
            ),
        ],
    )
)

# The provisioning demo (branches and a child saga) registers itself on import.
__all__ = ["checkout", "provisioning"]
