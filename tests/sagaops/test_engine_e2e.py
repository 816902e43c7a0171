"""Every engine path end to end: real PostgreSQL, Redis, broker and a Celery worker process."""

import pytest

from sagaops import mirror
from sagaops.services import saga_start, step_complete, step_fail
from tests.helpers import event_kinds, step_statuses, wait_for_status
from tests.sagas import calls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


def start(payload=None, saga_type="test.flow"):
    saga, _ = saga_start(saga_type=saga_type, payload=payload or {})
    return saga


def test_success_runs_every_step_once():
    saga = wait_for_status(start().id)
    assert saga.status == "completed"
    assert calls(saga.id) == ["fail:a:1", "fail:b:1", "fail:c:1", "fail:d:1", "fail:e:1"]
    assert set(step_statuses(saga).values()) == {"succeeded"}
    assert event_kinds(saga)[0] == "saga_started" and event_kinds(saga)[-1] == "saga_completed"
    assert saga.finished_at is not None and saga.wake_at is None


def test_business_failure_compensates_in_reverse_order():
    saga = wait_for_status(start({"fail": {"c": "business"}}).id)
    assert saga.status == "compensated"
    assert calls(saga.id) == ["fail:a:1", "fail:b:1", "fail:c:1", "comp:b:1", "comp:a:1"]
    assert step_statuses(saga) == {
        "a": "compensated",
        "b": "compensated",
        "c": "failed",
        "d": "pending",
        "e": "pending",
    }


def test_transient_failure_is_retried_then_succeeds():
    saga = wait_for_status(start({"fail": {"b": "transient:2"}}).id)
    assert saga.status == "completed"
    assert [c for c in calls(saga.id) if ":b:" in c] == ["fail:b:1", "fail:b:2", "fail:b:3"]
    assert event_kinds(saga).count("step_retry_scheduled") == 2


def test_step_timeout_compensates_the_timed_out_step_too():
    saga = wait_for_status(start({"fail": {"c": "hang:5"}}).id, timeout=40)
    assert saga.status == "compensated"
    step_c = saga.steps.get(name="c")
    assert step_c.outcome_unknown and step_c.status == "compensated"
    assert "timed out" in step_c.last_error
    assert calls(saga.id)[-3:] == ["comp:c:1", "comp:b:1", "comp:a:1"]


def test_failure_after_the_pivot_retries_then_sticks():
    saga = wait_for_status(start({"fail": {"e": "always"}}).id)
    assert saga.status == "stuck"
    assert [c for c in calls(saga.id) if ":e:" in c] == ["fail:e:1", "fail:e:2", "fail:e:3"]
    assert "step e failed after 3 attempt(s) past the pivot" in saga.attention_reason
    assert not [c for c in calls(saga.id) if c.startswith("comp:")]


def test_a_compensation_that_keeps_failing_sticks():
    saga = wait_for_status(start({"fail": {"c": "business"}, "comp": {"a": "always"}}).id)
    assert saga.status == "stuck"
    assert step_statuses(saga)["a"] == "compensation_failed"
    assert "compensation of step a failed after 2 attempt(s)" in saga.attention_reason


def test_the_mirror_follows_the_saga():
    saga = wait_for_status(start().id)
    cached = mirror.read(saga.id)
    assert cached["status"] == "completed"
    assert int(cached["version"]) == saga.version
    assert [e["k"] for e in mirror.read_log(saga.id)][-1] == "saga_completed"


def test_async_step_waits_for_its_callback():
    saga = start(saga_type="test.async")
    wait_for_status(saga.id, "running")
    _wait_step(saga, "wait", "waiting")
    assert step_complete(saga_id=saga.id, step_name="wait", result={"ok": 1}) == "completed"
    assert step_complete(saga_id=saga.id, step_name="wait", result={"ok": 1}) == "duplicate"
    saga = wait_for_status(saga.id)
    assert saga.status == "completed"
    assert saga.steps.get(name="wait").result == {"ok": 1}


def test_async_step_reported_failure_compensates():
    saga = start(saga_type="test.async")
    _wait_step(saga, "wait", "waiting")
    step_fail(saga_id=saga.id, step_name="wait", error="card declined", retryable=False)
    saga = wait_for_status(saga.id)
    assert saga.status == "compensated"
    assert saga.steps.get(name="wait").last_error == "card declined"


def _wait_step(saga, name, status, timeout=20):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if saga.steps.get(name=name).status == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"step {name} never reached {status}")
