"""sagaops.rules.compensation: claiming, finishing and failing a compensation. One test per rule."""

from datetime import timedelta

from sagaops import rules
from sagaops.rules import failure_of
from tests.sagaops.rule_fakes import NOW, steps_of
from tests.sagas import FAST_COMP, TransientError, flow

UNDOING_A = ("compensating", "compensated", "failed", "pending", "pending")


def test_a_compensation_claim_counts_the_attempt_and_leases_it():
    s = steps_of(flow, "succeeded", "compensated", "failed", "pending", "pending")
    change = rules.on_compensation_claimed(flow, s[0], now=NOW)
    assert change.step["status"] == "compensating" and change.step["compensation_attempts"] == 1
    assert change.step["lease_expires_at"] == NOW + timedelta(seconds=30) + rules.LEASE_MARGIN


def test_the_last_compensation_finishes_the_saga():
    s = steps_of(flow, *UNDOING_A)
    change = rules.on_compensation_succeeded(flow, s, s[0], attempts=1, now=NOW)
    assert change.saga["status"] == "compensated"
    assert [e.kind for e in change.events] == ["step_compensated", "saga_compensated"]


def test_a_compensation_with_more_to_undo_goes_on():
    s = steps_of(flow, "succeeded", "compensating", "failed", "pending", "pending")
    change = rules.on_compensation_succeeded(flow, s, s[1], attempts=1, now=NOW)
    assert "status" not in change.saga


def test_a_failed_compensation_with_attempts_left_is_retried():
    s = steps_of(flow, *UNDOING_A)
    change = rules.on_compensation_failed(flow, s[0], failure_of(TransientError("x"), FAST_COMP), attempts=1, now=NOW)
    assert change.step["status"] == "compensating" and change.step["next_attempt_at"] > NOW


def test_a_compensation_out_of_attempts_makes_the_saga_stuck():
    s = steps_of(flow, *UNDOING_A)
    failure = failure_of(TransientError("x"), FAST_COMP)
    change = rules.on_compensation_failed(flow, s[0], failure, attempts=FAST_COMP.max_attempts, now=NOW)
    assert change.saga["status"] == "stuck" and change.step["status"] == "compensation_failed"
    assert change.events[-1].detail["code"] == "compensation_failed"


def test_a_compensation_lost_with_its_worker_each_time_says_so():
    s = steps_of(flow, *UNDOING_A, a={"compensation_attempts": 2})
    change = rules.on_compensation_lease_expired(flow, s[0], now=NOW)
    assert change.saga["attention_reason"] == "worker died while compensating a 2 times"
    assert change.events[-1].detail["code"] == "worker_lost"
