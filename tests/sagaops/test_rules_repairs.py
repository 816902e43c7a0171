"""sagaops.rules.repairs: when each operator action may run, and what it changes. One test per rule."""

from datetime import timedelta

from sagaops import rules
from tests.sagaops.rule_fakes import NOW, FakeSaga, steps_of
from tests.sagas import flow

LIVE = NOW + timedelta(seconds=30)
STUCK_AFTER_PIVOT = ("succeeded", "succeeded", "succeeded", "succeeded", "failed")
COMP_FAILED = ("compensation_failed", "compensated", "failed", "pending", "pending")


def stuck():
    return FakeSaga(status="stuck")


def test_retry_is_refused_while_an_attempt_is_in_flight():
    s = steps_of(flow, "succeeded", "running", "pending", "pending", "pending", b={"lease_expires_at": LIVE})
    refusal = rules.can_retry(FakeSaga(), flow, s, now=NOW)
    assert refusal.transient and refusal.message.startswith("an attempt of step b is in flight until")


def test_retry_of_an_abandoned_attempt_keeps_it_outcome_unknown():
    s = steps_of(flow, "succeeded", "running", "pending", "pending", "pending", b={"lease_expires_at": NOW})
    assert rules.can_retry(FakeSaga(), flow, s, now=NOW) is None
    change = rules.retry_change(FakeSaga(), flow, s, now=NOW)
    assert change.step == {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": None,
        "lease_expires_at": None,
        "outcome_unknown": True,
    }


def test_retry_before_the_pivot_gives_a_fresh_deadline():
    s = steps_of(flow, "succeeded", "failed", "pending", "pending", "pending")
    change = rules.retry_change(stuck(), flow, s, now=NOW)
    assert change.saga["deadline"] == NOW + flow.timeout


def test_retry_past_the_pivot_keeps_the_deadline():
    change = rules.retry_change(stuck(), flow, steps_of(flow, *STUCK_AFTER_PIVOT), now=NOW)
    assert "deadline" not in change.saga and change.step_index == 4


def test_retry_of_a_compensating_saga_is_refused():
    refusal = rules.can_retry(stuck(), flow, steps_of(flow, *COMP_FAILED), now=NOW)
    assert refusal.message == "the saga was compensating: retry the compensation instead"


def test_retry_records_an_edited_payload_as_a_diff():
    s = steps_of(flow, *STUCK_AFTER_PIVOT)
    change = rules.retry_change(stuck(), flow, s, now=NOW, payload={"n": 2, "note": None})
    assert change.events[0].detail["payload_diff"] == {"n": {"before": 1, "after": 2}, "note": {"after": None}}
    assert change.saga["context"]["payload"] == {"n": 2, "note": None}


def test_force_compensation_past_the_pivot_is_refused():
    refusal = rules.can_compensate(stuck(), flow, steps_of(flow, *STUCK_AFTER_PIVOT), now=NOW)
    assert refusal.message.startswith("the saga is past its pivot (d)")


def test_force_compensation_abandons_the_attempt_in_flight():
    s = steps_of(flow, "succeeded", "running", "pending", "pending", "pending", b={"lease_expires_at": LIVE})
    assert rules.can_compensate(FakeSaga(), flow, s, now=NOW) is None
    change = rules.compensate_change(FakeSaga(), s, now=NOW)
    assert change.step_index == 1 and change.step["outcome_unknown"] is True


def test_retry_compensation_of_a_failed_compensation():
    s = steps_of(flow, *COMP_FAILED)
    assert rules.can_retry_compensation(stuck(), flow, s, now=NOW) is None
    change = rules.retry_compensation_change(stuck(), flow, s, now=NOW)
    assert (change.step_index, change.step["status"], change.saga["status"]) == (0, "compensating", "compensating")
    assert (change.saga["attention_reason"], change.saga["attention_code"]) == ("", "")


def test_retry_compensation_kicks_a_compensating_saga_that_waits_for_nothing():
    s = steps_of(flow, "compensating", "compensated", "failed", "pending", "pending")
    s[0].next_attempt_at = NOW + timedelta(hours=1)
    assert rules.can_retry_compensation(FakeSaga(status="compensating"), flow, s, now=NOW) is None


def test_retry_compensation_with_nothing_failed_is_refused():
    s = steps_of(flow, *STUCK_AFTER_PIVOT)
    assert (
        rules.can_retry_compensation(stuck(), flow, s, now=NOW).message
        == "no compensation has failed: nothing to retry"
    )


def test_skip_only_a_failed_step_of_a_stuck_saga():
    s = steps_of(flow, *STUCK_AFTER_PIVOT)
    assert rules.can_skip(stuck(), s, "e", now=NOW) is None
    assert rules.can_skip(stuck(), s, "d", now=NOW).message == "step d is succeeded; only a failed step can be skipped"
    assert rules.skip_change(stuck(), s, "e", now=NOW).step["status"] == "skipped"


def test_mark_done_only_a_failed_compensation():
    s = steps_of(flow, *COMP_FAILED)
    assert rules.can_mark_done(stuck(), s, "a", now=NOW) is None
    assert (
        rules.can_mark_done(stuck(), s, "b", now=NOW).message
        == "step b is compensated; its compensation has not failed"
    )


def test_resolve_any_unfinished_saga_that_holds_nothing():
    for status in ("pending", "running", "compensating", "stuck"):
        assert rules.can_resolve(FakeSaga(status=status), steps_of(flow, *COMP_FAILED), now=NOW) is None


def test_resolve_is_refused_while_an_attempt_is_in_flight():
    s = steps_of(flow, "compensating", "compensated", "failed", "pending", "pending", a={"lease_expires_at": LIVE})
    assert rules.can_resolve(FakeSaga(status="compensating"), s, now=NOW).transient


def test_resolve_of_a_finished_saga_is_refused():
    s = steps_of(flow, *["succeeded"] * 5)
    assert rules.can_resolve(FakeSaga(status="completed"), s, now=NOW).message == "cannot resolve a completed saga"
