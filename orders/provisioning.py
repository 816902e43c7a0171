"""The provisioning saga: open a store's account, stock it from ten warehouses at once (a
Parallel group of ten branches), then ship the first delivery as a child saga, and activate.

A demo of the engine's branches and child sagas (`manage.py sagaops_demo --provisioning N`): the
participants are simulated, and a payload `{"refuse": "<warehouse>"}` makes one warehouse refuse,
so the console shows the other nine compensated side by side.
"""

import time

from sagaops.children import ChildSaga
from sagaops.definitions import Parallel, RetryPolicy, SagaDefinition, Step, StepContext, register

PROVISIONING = "provisioning"
WAREHOUSES = tuple(f"warehouse_{n:02d}" for n in range(1, 11))
FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.2)


class WarehouseRefused(Exception):
    """The warehouse cannot stock the store: not retried, the saga turns back."""


def simulated(ctx: StepContext) -> dict:
    time.sleep(0.05)  # a participant's round trip
    return {"ref": ctx.idempotency_key}


def undone(ctx: StepContext) -> dict:
    time.sleep(0.05)
    return {"undone": ctx.action_key}


def reserve(ctx: StepContext) -> dict:
    if ctx.payload.get("refuse") == ctx.step:
        raise WarehouseRefused(f"{ctx.step} has no room")
    return simulated(ctx)


def warehouse(name: str) -> Step:
    return Step(
        name,
        reserve,
        compensation=undone,
        kind="remote",
        timeout=10,
        retry=RetryPolicy(max_attempts=3, initial_delay=0.2, non_retryable=(WarehouseRefused,)),
    )


shipping = register(
    SagaDefinition(
        name="provisioning.ship",
        description="Ship a new store's first delivery: book a carrier, print the labels.",
        steps=[
            Step("book_carrier", simulated, compensation=undone, kind="remote", timeout=10, retry=FAST_RETRY),
            Step("print_labels", simulated, compensation=undone, kind="remote", timeout=10, retry=FAST_RETRY),
        ],
    )
)

provisioning = register(
    SagaDefinition(
        name=PROVISIONING,
        description="Provision a store: an account, stock from ten warehouses at once, the first delivery.",
        search_keys=("store",),
        steps=[
            Step("open_account", simulated, compensation=undone, kind="remote", timeout=10, retry=FAST_RETRY),
            Parallel("stock", branches=[warehouse(name) for name in WAREHOUSES], timeout=60),
            ChildSaga("ship", saga_type=shipping.name, payload=lambda ctx: {"store": ctx.payload.get("store", "")}),
            Step("activate", simulated, kind="remote", pivot=True, timeout=10, retry=FAST_RETRY),
        ],
    )
)
