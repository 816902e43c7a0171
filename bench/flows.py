"""The benchmark's workloads: four trivial local steps, and three calls to a remote participant,
each as a saga and as a bare Celery chain.

The worker imports this module through SAGAOPS_SAGA_MODULES, which registers both the saga
definition and the chain's task.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time

from celery import chain, shared_task

from sagaops.definitions import Parallel, RetryPolicy, SagaDefinition, Step, StepContext, register
from sagaops.redis import get_redis

SAGA_TYPE = "bench.four_local"
STEP_NAMES = ("a", "b", "c", "d")


def done_key(label: str) -> str:
    return f"bench:chain-done:{label}"


def touch(ctx: StepContext) -> dict:
    return {"ok": 1}


def untouch(ctx: StepContext) -> None:
    return None


four_local = register(
    SagaDefinition(
        name=SAGA_TYPE,
        description="Benchmark: four trivial local steps.",
        steps=[Step(name, touch, compensation=untouch) for name in STEP_NAMES],
    )
)


@shared_task(name="sagaops.benchmark.chain_step")
def chain_step(results: dict, step: str, run_id: str = "", label: str = "") -> dict:
    """One step of the bare chain: the same trivial work; the last one records when it finished."""
    results = {**results, step: {"ok": 1}}
    if label:
        get_redis().rpush(done_key(label), f"{run_id} {time.time()}")
    return results


def chain_start(*, run_id: str, label: str, payload: dict) -> None:
    first, *middle, last = STEP_NAMES
    chain(
        chain_step.s({"payload": payload}, first),
        *(chain_step.s(name) for name in middle),
        chain_step.s(last, run_id=run_id, label=label),
    ).apply_async()


REMOTE_TYPE = "bench.three_remote"
REMOTE_STEPS = ("first", "second", "third")
# host:port of the benchmark's participant (bench/participant.py), set in the worker.
PARTICIPANT_ENV = "SAGAOPS_BENCH_PARTICIPANT"
_http = threading.local()


def participant_call(key: str) -> dict:
    """POST the step to the participant with its idempotency key; one kept-alive connection per thread."""
    conn = getattr(_http, "conn", None)
    if conn is None:
        host, port = os.environ[PARTICIPANT_ENV].rsplit(":", 1)
        conn = _http.conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("POST", "/step", body=json.dumps({"key": key}), headers={"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())
    except (OSError, http.client.HTTPException):
        conn.close()
        _http.conn = None
        raise


def remote(ctx: StepContext) -> dict:
    return participant_call(ctx.idempotency_key)


three_remote = register(
    SagaDefinition(
        name=REMOTE_TYPE,
        description="Benchmark: three calls to a remote participant.",
        steps=[Step(name, remote, compensation=untouch, kind="remote", timeout=10) for name in REMOTE_STEPS],
    )
)


@shared_task(name="sagaops.benchmark.remote_chain_step")
def remote_chain_step(results: dict, step: str, run_id: str = "", label: str = "") -> dict:
    """One step of the bare chain of remote calls: the same call, keyed like the saga's."""
    results = {**results, step: participant_call(f"{run_id}:{step}")}
    if label:
        get_redis().rpush(done_key(label), f"{run_id} {time.time()}")
    return results


def remote_chain_start(*, run_id: str, label: str, payload: dict) -> None:
    first, *middle, last = REMOTE_STEPS
    chain(
        remote_chain_step.s({"payload": payload}, first, run_id=run_id),
        *(remote_chain_step.s(name, run_id=run_id) for name in middle),
        remote_chain_step.s(last, run_id=run_id, label=label),
    ).apply_async()


CHECKOUT_LIKE = "bench.checkout_like"


class Declined(Exception):
    """A business refusal: not retried, the saga compensates."""


def charge(ctx: StepContext) -> dict:
    if ctx.payload.get("decline"):
        raise Declined("card declined")
    return {"payment": ctx.idempotency_key, "amount": "42.00"}


def reply(ctx: StepContext) -> dict:
    return {"ref": ctx.idempotency_key}


# The checkout's shape (local, remote, remote, local pivot, remote retry-only) with trivial
# actions: what a real day writes per saga, for the scale benchmark's row sizes and HOT ratio.
checkout_like = register(
    SagaDefinition(
        name=CHECKOUT_LIKE,
        description="Benchmark: the checkout's five steps with trivial actions.",
        steps=[
            Step("create_order", touch, compensation=untouch),
            Step("reserve_stock", reply, compensation=untouch, kind="remote", timeout=10),
            Step(
                "charge_payment",
                charge,
                compensation=untouch,
                kind="remote",
                timeout=10,
                retry=RetryPolicy(max_attempts=3, initial_delay=0.2, non_retryable=(Declined,)),
            ),
            Step("confirm_order", touch, pivot=True),
            Step("notify_customer", reply, kind="remote", timeout=10),
        ],
    )
)


FANOUT = "bench.fanout10"
FANOUT_WIDTH = 10

# A 10-way fan-out: a local step, a Parallel group of ten trivial local branches, a local step.
fanout10 = register(
    SagaDefinition(
        name=FANOUT,
        description="Benchmark: a Parallel group of ten trivial local branches between two local steps.",
        steps=[
            Step("open", touch, compensation=untouch),
            Parallel("fan", branches=[Step(f"branch_{n}", touch, compensation=untouch) for n in range(FANOUT_WIDTH)]),
            Step("close", touch, compensation=untouch),
        ],
    )
)
