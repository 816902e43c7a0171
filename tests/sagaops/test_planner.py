"""The planner decides the next move from the saga's state alone."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sagaops.rules import next_move
from tests.sagas import flow

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeStep:
    index: int
    status: str = "pending"
    next_attempt_at: datetime | None = None
    lease_expires_at: datetime | None = None
    outcome_unknown: bool = False


def steps(*statuses):
    return [FakeStep(i, s) for i, s in enumerate(statuses)]


def move(status, step_list, deadline=None):
    return next_move(status=status, definition=flow, steps=step_list, deadline=deadline, now=NOW)


def test_runs_the_first_pending_step():
    assert move("pending", steps("succeeded", "pending", "pending", "pending", "pending")).kind == "run"
    assert move("running", steps("succeeded", "pending", "pending", "pending", "pending")).index == 1


def test_waits_for_a_retry_that_is_not_due():
    later = NOW + timedelta(seconds=3)
    s = steps("pending", "pending", "pending", "pending", "pending")
    s[0].next_attempt_at = later
    assert (move("running", s).kind, move("running", s).until) == ("wait", later)


def test_expires_a_running_step_whose_lease_ran_out():
    s = steps("succeeded", "running", "pending", "pending", "pending")
    s[1].lease_expires_at = NOW - timedelta(seconds=1)
    assert (move("running", s).kind, move("running", s).index) == ("expire", 1)


def test_all_steps_done_completes():
    assert move("running", steps(*["succeeded"] * 4, "skipped")).kind == "complete"


def test_deadline_before_the_pivot_turns_back():
    result = move("running", steps("succeeded", "pending", "pending", "pending", "pending"), deadline=NOW)
    assert result.kind == "start_compensation"


def test_deadline_after_the_pivot_is_ignored():
    result = move("running", steps(*["succeeded"] * 4, "pending"), deadline=NOW - timedelta(hours=1))
    assert (result.kind, result.index) == ("run", 4)


def test_compensates_in_reverse_order():
    result = move("compensating", steps("succeeded", "succeeded", "failed", "pending", "pending"))
    assert (result.kind, result.index) == ("compensate", 1)


def test_a_timed_out_step_is_compensated_first():
    s = steps("succeeded", "succeeded", "failed", "pending", "pending")
    s[2].outcome_unknown = True
    assert move("compensating", s).index == 2


def test_nothing_left_to_compensate_finishes():
    assert move("compensating", steps("compensated", "compensated", "failed", "pending", "pending")).kind == (
        "compensated"
    )


def test_a_failed_compensation_waits_for_an_operator():
    assert move("compensating", steps("succeeded", "compensation_failed", "failed", "pending", "pending")).kind == (
        "idle"
    )


def test_stuck_saga_is_idle():
    assert move("stuck", steps(*["succeeded"] * 4, "failed")).kind == "idle"
