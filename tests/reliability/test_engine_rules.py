"""Regression tests of the engine's rules through real worker processes: crash loops end, a
compensation keeps its step's result, a retry never abandons an attempt in flight, callbacks
answer an attempt, and a timeout inside a query is recorded as a timeout."""

import json
import os
import time

import pytest
from django.contrib.auth import get_user_model

from sagaops import services
from sagaops.exceptions import ActionRefused
from sagaops.models import Saga, SagaStep
from sagaops.redis import get_redis
from sagaops.services import saga_start
from tests.helpers import wait_for_status
from tests.reliability.conftest import wait_for_step
from tests.sagas import calls

pytestmark = pytest.mark.django_db(transaction=True)

# A worker killed mid-run leaves its lock; a short lock lets the next executor take over quickly.
CRASH_ENV = {"SAGAOPS_LOCK_TTL": "1"}


def operator():
    return get_user_model().objects.create(username="op")


def step(saga, name) -> SagaStep:
    return SagaStep.objects.get(saga=saga, name=name)


def test_a_local_step_that_kills_its_worker_each_time_ends_stuck(workers):
    # given a saga whose second (local) step kills the worker process that runs it
    workers("crashing", **CRASH_ENV)
    saga, _ = saga_start(saga_type="test.crash", payload={"test_pid": os.getpid()})
    # then every attempt is counted although none commits, and after the third the saga asks a human
    saga = wait_for_status(saga.id, timeout=90)
    assert saga.status == "stuck"
    assert saga.attention_reason == "worker died while running boom 3 times"
    assert (step(saga, "boom").status, step(saga, "boom").attempts) == ("failed", 3)
    # (the first crash came inside a run with "first", which is run again alone before boom is blamed)
    assert calls(saga.id)[-3:] == ["boom:1", "boom:2", "boom:3"] and "boom:4" not in calls(saga.id)
    assert saga.attention_code == "worker_lost"
    assert saga.events.get(kind="saga_stuck").detail["code"] == "worker_lost"
    # and it can be closed by hand
    services.saga_resolve(saga_id=saga.id, user=operator(), reason="poison step: handled by hand")
    assert Saga.objects.get(pk=saga.id).status == "resolved"


def test_a_local_compensation_that_kills_its_worker_each_time_ends_stuck(workers):
    workers("crashing-comp", **CRASH_ENV)
    saga, _ = saga_start(saga_type="test.crash_compensation", payload={"test_pid": os.getpid()})
    saga = wait_for_status(saga.id, timeout=90)
    assert saga.status == "stuck"
    assert saga.attention_reason == "worker died while compensating reserve 2 times"
    assert (step(saga, "reserve").status, step(saga, "reserve").compensation_attempts) == ("compensation_failed", 2)
    # the operator undoes it by hand and the saga finishes compensating
    services.compensation_mark_done(saga_id=saga.id, step_name="reserve", user=operator(), reason="released by hand")
    assert wait_for_status(saga.id, timeout=30).status == "compensated"


def test_a_compensation_retry_still_sees_its_own_step_result(workers):
    workers("results")
    saga, _ = saga_start(saga_type="test.compensation_results", payload={})
    assert wait_for_status(saga.id, timeout=30).status == "compensated"
    seen = [json.loads(raw) for raw in get_redis().lrange(f"test:seen:{saga.id}", 0, -1)]
    assert [s["attempt"] for s in seen] == [1, 2]
    for attempt in seen:  # the second attempt too: its step is "compensating" by then
        assert set(attempt["results"]) == {"a", "b"}
        assert attempt["results"]["b"] == {"step": "b", "key": f"{saga.id}:b"}


def test_retry_forward_is_refused_while_an_attempt_is_in_flight(workers):
    # given a remote step whose first attempt is still running in a worker
    workers("in-flight")
    saga, _ = saga_start(saga_type="test.blocking", payload={})
    wait_for_step(saga.id, "slow", ["running"])
    # when an operator asks to retry forward, the attempt is not abandoned
    with pytest.raises(ActionRefused, match="an attempt of step slow is in flight"):
        services.saga_retry(saga_id=saga.id, user=operator(), reason="looks stuck")
    # then the attempt finishes and the saga completes with that one attempt
    get_redis().rpush(f"test:release:{saga.id}", "go")
    assert wait_for_status(saga.id, timeout=30).status == "completed"
    assert step(saga, "slow").attempts == 1


def wait_for_attempt(saga, name, attempts, status, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = step(saga, name)
        if (current.attempts, current.status) == (attempts, status):
            return current
        time.sleep(0.05)
    raise AssertionError(f"step {name} is {current.status} at attempt {current.attempts}")


def test_replayed_failure_callbacks_do_not_burn_retries(workers):
    workers("callbacks")
    saga, _ = saga_start(saga_type="test.async", payload={})
    wait_for_attempt(saga, "wait", 1, "waiting")
    fail = {"saga_id": saga.id, "step_name": "wait", "error": "provider said 503", "attempt": 1}
    assert services.step_fail(**fail) == "failed"
    assert services.step_fail(**fail) == "duplicate"
    wait_for_attempt(saga, "wait", 2, "waiting")
    # a replay of attempt 1's failure reaches the service while attempt 2 waits: nothing changes
    assert services.step_fail(**fail) == "duplicate"
    assert (step(saga, "wait").attempts, step(saga, "wait").status) == (2, "waiting")
    assert services.step_complete(saga_id=saga.id, step_name="wait", result={"ok": 2}, attempt=2) == "completed"
    assert wait_for_status(saga.id, timeout=30).status == "completed"


def test_a_late_success_between_attempts_is_adopted(workers):
    # given an async step whose callback did not come within its lease: a retry is scheduled
    workers("late")
    saga, _ = saga_start(saga_type="test.late_callback", payload={})
    wait_for_attempt(saga, "wait", 1, "pending", timeout=30)
    # when the success of that attempt arrives late
    outcome = services.step_complete(saga_id=saga.id, step_name="wait", result={"id": "x1"}, attempt=1)
    # then it is taken (same idempotency key) instead of the step being retried or compensated
    assert outcome == "completed"
    saga = wait_for_status(saga.id, timeout=30)
    assert saga.status == "completed"
    assert step(saga, "wait").result == {"id": "x1"}
    assert saga.events.filter(kind="callback_received", detail__late=True).count() == 1


def test_a_timeout_inside_a_query_is_recorded_as_a_timeout(workers):
    workers("query-timeout")
    saga, _ = saga_start(saga_type="test.query_timeout", payload={})
    saga = wait_for_status(saga.id, timeout=30)
    slow = step(saga, "slow_query")
    assert slow.last_error_type == "sagaops.exceptions.StepTimeout"
    assert slow.last_error == "step slow_query timed out after 0.5s"
    assert saga.status == "compensated"
