"""sagaops.rules.callbacks: what an async step's service may report. One test per rule."""

from sagaops import rules
from tests.sagaops.rule_fakes import NOW, FakeSaga, steps_of
from tests.sagas import async_flow


def complete(statuses, attempt=None, saga=None, result=None, **overrides):
    s = steps_of(async_flow, *statuses, **overrides)
    return rules.on_callback_complete(
        saga or FakeSaga(), async_flow, s, s[1], result=result or {"ok": 1}, attempt=attempt, actor="svc", now=NOW
    )


def fail(statuses, attempt=None, error="503", **overrides):
    s = steps_of(async_flow, *statuses, **overrides)
    return rules.on_callback_fail(
        FakeSaga(), async_flow, s, s[1], error=error, retryable=True, attempt=attempt, actor="svc", now=NOW
    )


WAITING = ("succeeded", "waiting", "pending")


def test_a_success_for_the_waiting_attempt_completes_the_step_and_wakes_soon():
    change = complete(WAITING, attempt=1, wait={"attempts": 1})
    assert change.step["status"] == "succeeded" and change.step["result"] == {"ok": 1}
    assert change.saga["wake_at"] == NOW + rules.callbacks.CALLBACK_WAKE
    assert change.events[0].kind == "callback_received" and change.events[0].actor == "svc"


def test_a_late_success_between_attempts_is_adopted():
    change = complete(("succeeded", "pending", "pending"), attempt=1, wait={"attempts": 1})
    assert change.step["status"] == "succeeded" and change.events[0].detail["late"] is True


def test_a_success_before_any_attempt_is_refused():
    assert isinstance(complete(("succeeded", "pending", "pending")), rules.Refusal)


def test_a_success_for_an_attempt_not_started_is_refused():
    refusal = complete(WAITING, attempt=2, wait={"attempts": 1})
    assert refusal.message == "attempt 2 of step wait has not started (it is at attempt 1)"


def test_the_same_success_again_is_a_replay():
    assert complete(("succeeded", "succeeded", "pending"), wait={"result": {"ok": 1}}) is rules.DUPLICATE


def test_a_different_success_after_the_first_is_refused():
    assert isinstance(complete(("succeeded", "succeeded", "pending"), wait={"result": {"ok": 2}}), rules.Refusal)


def test_a_success_for_a_compensating_saga_is_refused():
    assert isinstance(complete(WAITING, saga=FakeSaga(status="compensating"), wait={"attempts": 1}), rules.Refusal)


def test_a_failure_of_the_waiting_attempt_applies_the_retry_policy():
    change = fail(WAITING, attempt=1, wait={"attempts": 1})
    assert change.step["status"] == "pending" and change.events[0].kind == "callback_received"


def test_a_failure_of_an_earlier_attempt_changes_nothing():
    assert fail(WAITING, attempt=1, wait={"attempts": 2}) is rules.DUPLICATE


def test_the_same_failure_again_is_a_replay():
    assert (
        fail(("succeeded", "pending", "pending"), attempt=1, wait={"attempts": 1, "last_error": "503"})
        is rules.DUPLICATE
    )


def test_a_callback_for_a_step_that_is_not_async_is_refused():
    s = steps_of(async_flow, "waiting", "pending", "pending")
    refusal = rules.on_callback_complete(FakeSaga(), async_flow, s, s[0], result=1, attempt=None, actor="", now=NOW)
    assert refusal.message == "step a is not an async step; it takes no callbacks"
