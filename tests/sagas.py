"""Saga definitions for the engine's tests. Each step records its calls in a Redis list and
behaves as the saga's payload tells it to:

    {"fail": {"b": "business" | "transient:N" | "always" | "hang:S"},   # forward action
     "comp": {"a": "always" | "transient:N"}}                           # compensation
"""

import json
import os
import signal
import time

from django.db import connection

from sagaops.children import ChildSaga
from sagaops.definitions import Parallel, RetryPolicy, SagaDefinition, Step, StepContext, register
from sagaops.redis import get_redis


class BusinessError(Exception):
    pass


class TransientError(Exception):
    pass


def calls(saga_id) -> list[str]:
    return get_redis().lrange(f"test:calls:{saga_id}", 0, -1)


def fix(saga_id) -> None:
    """The cause of the saga's failures is gone: its steps stop failing."""
    get_redis().sadd("test:fixed", str(saga_id))


def _behave(ctx: StepContext, phase: str) -> dict:
    redis = get_redis()
    redis.rpush(f"test:calls:{ctx.saga_id}", f"{phase}:{ctx.step}:{ctx.attempt}")
    fixed = redis.sismember("test:fixed", ctx.saga_id)
    rule = "" if fixed else ctx.payload.get(phase, {}).get(ctx.step, "")
    kind, _, arg = rule.partition(":")
    if kind == "business":
        raise BusinessError(f"{ctx.step} refused")
    if kind == "always" or (kind == "transient" and ctx.attempt <= int(arg)):
        raise TransientError(f"{ctx.step} failed on attempt {ctx.attempt}")
    if kind == "hang":
        time.sleep(float(arg))
    return {"step": ctx.step, "key": ctx.idempotency_key}


def action(ctx: StepContext) -> dict:
    return _behave(ctx, "fail")


def compensation(ctx: StepContext) -> dict:
    return _behave(ctx, "comp")


def send_command(ctx: StepContext) -> dict:
    get_redis().rpush(f"test:calls:{ctx.saga_id}", f"fail:{ctx.step}:{ctx.attempt}")
    return {"sent": ctx.idempotency_key}


FAST = RetryPolicy(max_attempts=3, initial_delay=0.1, backoff=1.0, non_retryable=(BusinessError,))
FAST_COMP = RetryPolicy(max_attempts=2, initial_delay=0.1, backoff=1.0)

flow = register(
    SagaDefinition(
        name="test.flow",
        search_keys=("order_id", "customer"),
        steps=[
            Step("a", action, compensation=compensation, retry=FAST, compensation_retry=FAST_COMP),
            Step("b", action, compensation=compensation, kind="remote", retry=FAST, compensation_retry=FAST_COMP),
            Step(
                "c",
                action,
                compensation=compensation,
                kind="remote",
                retry=FAST,
                compensation_retry=FAST_COMP,
                timeout=1,
            ),
            Step("d", action, pivot=True, retry=FAST),
            Step("e", action, kind="remote", retry=FAST),
        ],
    )
)

async_flow = register(
    SagaDefinition(
        name="test.async",
        steps=[
            Step("a", action, compensation=compensation, retry=FAST),
            Step("wait", send_command, compensation=compensation, kind="async", retry=FAST, timeout=30),
            Step("done", action, retry=FAST),
        ],
    )
)


def block_first_attempt(ctx: StepContext) -> dict:
    """Attempt 1 blocks until the test pushes to `test:release:<saga>` (a zombie executor's call)."""
    if ctx.attempt == 1:
        get_redis().blpop(f"test:release:{ctx.saga_id}", timeout=20)
    get_redis().rpush(f"test:calls:{ctx.saga_id}", f"fail:{ctx.step}:{ctx.attempt}")
    return {"attempt": ctx.attempt}


blocking_flow = register(
    SagaDefinition(
        name="test.blocking",
        steps=[
            Step("a", action, retry=FAST),
            Step("slow", block_first_attempt, kind="remote", retry=FAST, timeout=30),
            Step("z", action, retry=FAST),
        ],
    )
)


# --- sagas for the engine's regression tests (tests/reliability/test_engine_rules.py) ---


def kill_worker_unless_in(ctx: StepContext) -> dict:
    """Kills the process it runs in (as an OOM kill or a segfault would), except the test's own."""
    get_redis().rpush(f"test:calls:{ctx.saga_id}", f"{ctx.step}:{ctx.attempt}")
    if os.getpid() != ctx.payload["test_pid"]:
        os.kill(os.getpid(), signal.SIGKILL)
    return {}


def refuse(ctx: StepContext) -> dict:
    raise BusinessError(f"{ctx.step} refused")


def remember_results(ctx: StepContext) -> dict:
    """A compensation that records what it was given, failing on its first attempt."""
    get_redis().rpush(f"test:seen:{ctx.saga_id}", json.dumps({"attempt": ctx.attempt, "results": ctx.results}))
    if ctx.attempt == 1:
        raise TransientError("the participant blinked")
    return {}


def sleep_in_the_database(ctx: StepContext) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(3)")
    return {}


ONCE = RetryPolicy(max_attempts=1)
SLOW_RETRY = RetryPolicy(max_attempts=3, initial_delay=60, backoff=1.0, jitter=0)

crash_flow = register(
    SagaDefinition(
        name="test.crash",
        steps=[
            Step("first", action, retry=FAST),
            Step("boom", kill_worker_unless_in, retry=FAST),
        ],
    )
)

crash_compensation_flow = register(
    SagaDefinition(
        name="test.crash_compensation",
        steps=[
            Step("reserve", action, compensation=kill_worker_unless_in, compensation_retry=FAST_COMP),
            Step("refused", refuse, retry=FAST),
        ],
    )
)

compensation_results_flow = register(
    SagaDefinition(
        name="test.compensation_results",
        steps=[
            Step("a", action),
            Step("b", action, compensation=remember_results, kind="remote", compensation_retry=FAST_COMP),
            Step("refused", refuse, retry=FAST),
        ],
    )
)

query_timeout_flow = register(
    SagaDefinition(
        name="test.query_timeout",
        steps=[Step("a", action), Step("slow_query", sleep_in_the_database, retry=ONCE, timeout=0.5)],
    )
)

# An async step whose retry waits a minute: a late callback finds it pending between attempts.
late_callback_flow = register(
    SagaDefinition(
        name="test.late_callback",
        steps=[
            Step("wait", send_command, compensation=compensation, kind="async", retry=SLOW_RETRY, timeout=0.5),
            Step("done", action, retry=FAST),
        ],
    )
)


# --- repairs with data (tests/sagaops/test_data_repairs_e2e.py) ---


def seen(saga_id) -> list[dict]:
    """The `results` each attempt of a `record_results` step was given."""
    return [json.loads(r) for r in get_redis().lrange(f"test:seen:{saga_id}", 0, -1)]


def record_results(ctx: StepContext) -> dict:
    """Records the earlier results it is given, then behaves as the payload says."""
    get_redis().rpush(f"test:seen:{ctx.saga_id}", json.dumps(ctx.results))
    return _behave(ctx, "fail")


repair_flow = register(
    SagaDefinition(
        name="test.repair",
        steps=[
            Step("a", action, compensation=compensation, retry=FAST, compensation_retry=FAST_COMP),
            Step("pivot", action, pivot=True, retry=FAST),
            Step("charge", action, kind="remote", retry=FAST, participant="test-payments"),
            Step("ship", record_results, kind="remote", retry=FAST),
        ],
    )
)


# --- Parallel groups (tests/sagaops/test_branches_e2e.py) ---


def timed(ctx: StepContext, phase: str) -> dict:
    """Like `_behave`, and records when it ran: {"phase", "step", "start", "end"} on test:times:<saga>.
    payload {"sleep": {"<phase>": seconds}} makes every call of the phase last that long, and
    {"delay": {"<step>": seconds}} the step's forward action."""
    start = time.time()
    time.sleep(ctx.payload.get("sleep", {}).get(phase, 0))
    if phase == "fail":
        time.sleep(ctx.payload.get("delay", {}).get(ctx.step, 0))
    try:
        return _behave(ctx, phase)
    finally:
        entry = {"phase": phase, "step": ctx.step, "start": start, "end": time.time()}
        get_redis().rpush(f"test:times:{ctx.saga_id}", json.dumps(entry))


def times(saga_id) -> list[dict]:
    return [json.loads(t) for t in get_redis().lrange(f"test:times:{saga_id}", 0, -1)]


def timed_action(ctx: StepContext) -> dict:
    return timed(ctx, "fail")


def timed_compensation(ctx: StepContext) -> dict:
    return timed(ctx, "comp")


def at_the_barrier(ctx: StepContext) -> dict:
    """Waits until every branch named in payload["barrier"] has arrived: they finish together."""
    redis = get_redis()
    redis.incr(f"test:barrier:{ctx.saga_id}")
    deadline = time.monotonic() + 10
    while int(redis.get(f"test:barrier:{ctx.saga_id}")) < len(ctx.payload["barrier"]) and time.monotonic() < deadline:
        time.sleep(0.001)
    return _behave(ctx, "fail")


def branch(name: str, **options) -> Step:
    options.setdefault("kind", "remote")
    return Step(
        name, timed_action, compensation=timed_compensation, retry=FAST, compensation_retry=FAST_COMP, **options
    )


parallel_flow = register(
    SagaDefinition(
        name="test.parallel",
        steps=[
            Step("first", timed_action, compensation=timed_compensation, retry=FAST, compensation_retry=FAST_COMP),
            Parallel("fan", branches=[branch("p1", timeout=4), branch("p2"), [branch("p3a"), branch("p3b")]]),
            Step("last", timed_action, compensation=timed_compensation, retry=FAST),
        ],
    )
)

barrier_flow = register(
    SagaDefinition(
        name="test.barrier",
        steps=[
            Parallel(
                "together",
                branches=[Step("left", at_the_barrier, kind="remote"), Step("right", at_the_barrier, kind="local")],
            ),
        ],
    )
)


# --- child sagas (tests/sagaops/test_children_e2e.py) ---

child_flow = register(
    SagaDefinition(
        name="test.child",
        steps=[
            Step("c1", timed_action, compensation=timed_compensation, retry=FAST, compensation_retry=FAST_COMP),
            Step("c2", timed_action, compensation=timed_compensation, retry=FAST, compensation_retry=FAST_COMP),
        ],
    )
)

parent_flow = register(
    SagaDefinition(
        name="test.parent",
        steps=[
            Step("before", timed_action, compensation=timed_compensation, retry=FAST, compensation_retry=FAST_COMP),
            ChildSaga("kid", saga_type="test.child", payload=lambda ctx: ctx.payload.get("child", {}), timeout=20),
            Step("after", timed_action, compensation=timed_compensation, retry=FAST, compensation_retry=FAST_COMP),
        ],
    )
)

# A group after the pivot: a branch that keeps failing makes the saga stuck, one branch to retry.
late_group_flow = register(
    SagaDefinition(
        name="test.late_group",
        steps=[
            Step("go", action, pivot=True),
            Parallel(
                "notify",
                branches=[Step("q1", action, kind="remote", retry=FAST), Step("q2", action, kind="remote", retry=FAST)],
            ),
        ],
    )
)
