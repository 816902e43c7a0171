"""sagaops.rules.forward: what claiming, finishing and failing a step changes. One test per rule."""

from datetime import timedelta

from sagaops import rules
from sagaops.definitions import RetryPolicy
from sagaops.exceptions import StepTimeout
from sagaops.rules import failure_of
from tests.sagaops.rule_fakes import NOW, FakeSaga, steps_of
from tests.sagas import FAST, BusinessError, TransientError, flow


def failed(step_index, error, statuses, attempts=1, saga=None, **overrides):
    s = steps_of(flow, *statuses, **overrides)
    step = s[step_index]
    failure = failure_of(error, flow.steps[step_index].retry)
    return rules.on_step_failed(saga or FakeSaga(), flow, s, step, failure, attempts=attempts, now=NOW)


BEFORE_PIVOT = ("succeeded", "running", "pending", "pending", "pending")
AFTER_PIVOT = ("succeeded", "succeeded", "succeeded", "succeeded", "running")


def test_a_claim_counts_the_attempt_and_leases_it():
    s = steps_of(flow, "pending", "pending", "pending", "pending", "pending")
    change = rules.on_step_claimed(FakeSaga(status="pending"), flow, s[0], now=NOW)
    assert change.step["attempts"] == 1 and change.step["status"] == "running"
    assert change.step["lease_expires_at"] == NOW + timedelta(seconds=30) + rules.LEASE_MARGIN
    assert change.saga["status"] == "running" and change.saga["wake_at"] == change.step["lease_expires_at"]
    assert [e.kind for e in change.events] == ["step_started"]


def test_a_released_claim_gives_back_its_attempt():
    s = steps_of(flow, "running", "pending", "pending", "pending", "pending", a={"attempts": 2})
    assert rules.on_claim_released(s[0]).step == {"status": "pending", "attempts": 1, "lease_expires_at": None}


def test_success_of_the_last_step_completes_the_saga_in_the_same_change():
    s = steps_of(flow, *AFTER_PIVOT)
    change = rules.on_step_succeeded(FakeSaga(), flow, s, s[4], result={"ok": 1}, attempts=1, now=NOW)
    assert change.saga["status"] == "completed" and change.saga["wake_at"] is None
    assert [e.kind for e in change.events] == ["step_succeeded", "saga_completed"]


def test_success_of_a_middle_step_wakes_the_saga_by_the_next_lease():
    s = steps_of(flow, *BEFORE_PIVOT)
    change = rules.on_step_succeeded(FakeSaga(), flow, s, s[1], result=1, attempts=1, now=NOW)
    assert "status" not in change.saga
    assert change.saga["wake_at"] == NOW + timedelta(seconds=1) + rules.LEASE_MARGIN  # step c's timeout is 1 s


def test_a_transient_failure_with_attempts_left_is_retried_after_the_backoff():
    change = failed(1, TransientError("blip"), BEFORE_PIVOT)
    assert change.step["status"] == "pending"
    assert NOW + timedelta(seconds=0.1) <= change.step["next_attempt_at"] <= NOW + timedelta(seconds=0.11)
    assert change.step["outcome_unknown"] is True  # a remote step's transient error may hide an effect


def test_a_business_refusal_before_the_pivot_turns_the_saga_back():
    change = failed(1, BusinessError("no"), BEFORE_PIVOT)
    assert change.saga["status"] == "compensating"
    assert change.step["status"] == "failed" and change.step["outcome_unknown"] is False


def test_retries_exhausted_past_the_pivot_make_the_saga_stuck():
    change = failed(4, TransientError("down"), AFTER_PIVOT, attempts=FAST.max_attempts)
    assert change.saga["status"] == "stuck"
    assert change.saga["attention_reason"] == "step e failed after 3 attempt(s) past the pivot: down"
    assert change.saga["attention_code"] == change.events[-1].detail["code"] == "retries_exhausted"


def test_a_timeout_stays_outcome_unknown_even_when_the_policy_does_not_retry_it():
    s = steps_of(flow, *BEFORE_PIVOT)
    failure = failure_of(StepTimeout("b", 1), RetryPolicy(non_retryable=(StepTimeout,)))
    change = rules.on_step_failed(FakeSaga(), flow, s, s[1], failure, attempts=1, now=NOW)
    assert change.saga["status"] == "compensating" and change.step["outcome_unknown"] is True


def test_a_local_steps_failure_is_never_outcome_unknown():
    change = failed(0, TransientError("deadlock"), ("running", "pending", "pending", "pending", "pending"), attempts=3)
    assert change.step["outcome_unknown"] is False


def test_a_running_attempt_whose_lease_ran_out_was_lost_with_its_worker():
    s = steps_of(flow, *BEFORE_PIVOT, b={"attempts": 3})
    change = rules.on_lease_expired(FakeSaga(), flow, s, s[1], now=NOW)
    assert change.saga["status"] == "stuck"
    assert change.saga["attention_reason"] == "worker died while running b 3 times"
    assert change.step["last_error_type"] == "sagaops.exceptions.WorkerLost"


def test_a_waiting_attempt_whose_lease_ran_out_timed_out():
    s = steps_of(flow, "succeeded", "waiting", "pending", "pending", "pending", b={"attempts": 1})
    change = rules.on_lease_expired(FakeSaga(), flow, s, s[1], now=NOW)
    assert change.step["status"] == "pending" and change.step["last_error_type"] == "sagaops.exceptions.StepTimeout"


def test_turning_back_marks_the_step_in_flight_outcome_unknown():
    s = steps_of(flow, *BEFORE_PIVOT)
    change = rules.on_turn_back(s, "saga deadline exceeded", now=NOW)
    assert change.saga["status"] == "compensating" and change.step_index == 1
    assert change.step["status"] == "failed" and change.step["outcome_unknown"] is True


def test_a_timeout_interrupting_a_query_is_recorded_as_the_timeout():
    try:
        try:
            raise StepTimeout("a", 0.5)
        except StepTimeout:
            raise RuntimeError("another command is already in progress")  # noqa: B904 (chained by context)
    except RuntimeError as error:
        assert failure_of(error, FAST).type_name == "sagaops.exceptions.StepTimeout"


def test_error_text_is_bounded():
    assert len(failure_of(TransientError("x" * 10_000), FAST).message) == 2000


def test_a_result_that_brings_a_declared_search_key_records_it():
    from dataclasses import replace

    searchable = replace(flow, search_keys=("charge_id", "n"))
    s = steps_of(searchable, *BEFORE_PIVOT)
    result = {"charge_id": "ch_1", "n": 1, "other": "x"}  # n is in the payload already
    change = rules.on_step_succeeded(FakeSaga(), searchable, s, s[1], result=result, attempts=1, now=NOW)
    assert change.saga["search"] == {"charge_id": "ch_1"}


def test_a_result_without_search_keys_leaves_the_saga_search_alone():
    s = steps_of(flow, *BEFORE_PIVOT)
    change = rules.on_step_succeeded(FakeSaga(), flow, s, s[1], result={"charge_id": "x"}, attempts=1, now=NOW)
    assert "search" not in change.saga
