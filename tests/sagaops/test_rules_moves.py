"""sagaops.rules.moves: the next move, from the saga's state alone. One test per rule."""

from datetime import timedelta

from sagaops.rules import is_stalled, next_move, results_for
from tests.sagaops.rule_fakes import NOW, FakeSaga, FakeStep, steps_of
from tests.sagas import crash_flow, flow

LATER = NOW + timedelta(seconds=60)


def steps(*statuses):
    return [FakeStep(i, s, flow.steps[i].name) for i, s in enumerate(statuses)]


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


def test_an_orphaned_local_claim_is_run_again_alone():
    # the executor holds the lock, so the claim's executor is gone; its run was rolled back whole
    s = steps_of(
        crash_flow, "succeeded", "running", boom={"attempts": 1, "lease_expires_at": NOW + timedelta(seconds=60)}
    )
    result = next_move(status="running", definition=crash_flow, steps=s, deadline=None, now=NOW, exclusive=True)
    assert (result.kind, result.index, result.alone) == ("run", 1, True)


def test_an_orphaned_local_claim_out_of_attempts_expires():
    s = steps_of(
        crash_flow, "succeeded", "running", boom={"attempts": 3, "lease_expires_at": NOW + timedelta(seconds=60)}
    )
    result = next_move(status="running", definition=crash_flow, steps=s, deadline=None, now=NOW, exclusive=True)
    assert (result.kind, result.index) == ("expire", 1)


def test_a_local_claim_is_waited_for_without_the_lock():
    lease = NOW + timedelta(seconds=60)
    s = steps_of(crash_flow, "succeeded", "running", boom={"attempts": 1, "lease_expires_at": lease})
    result = next_move(status="running", definition=crash_flow, steps=s, deadline=None, now=NOW)
    assert (result.kind, result.until) == ("wait", lease)


def test_a_remote_claim_is_waited_for_even_with_the_lock():
    lease = NOW + timedelta(seconds=60)
    s = steps_of(flow, "succeeded", "running", "pending", "pending", "pending", b={"lease_expires_at": lease})
    result = next_move(status="running", definition=flow, steps=s, deadline=None, now=NOW, exclusive=True)
    assert (result.kind, result.until) == ("wait", lease)


def test_an_orphaned_local_compensation_claim_expires_at_once_with_the_lock():
    s = steps_of(flow, "compensating", "compensated", "failed", "pending", "pending")
    s[0].lease_expires_at = NOW + timedelta(seconds=60)
    result = next_move(status="compensating", definition=flow, steps=s, deadline=None, now=NOW, exclusive=True)
    assert (result.kind, result.index) == ("expire_comp", 0)


def test_forward_results_are_the_succeeded_steps():
    s = steps_of(flow, "succeeded", "succeeded", "pending", "pending", "pending")
    s[0].result, s[1].result = {"a": 1}, {"b": 2}
    assert results_for(s, 2, compensating=False) == {"a": {"a": 1}, "b": {"b": 2}}


def test_a_compensation_sees_its_own_result_while_it_is_being_compensated():
    s = steps_of(flow, "succeeded", "compensating", "compensated", "pending", "pending")
    s[0].result, s[1].result, s[2].result = {"a": 1}, {"b": 2}, {"c": 3}
    assert results_for(s, 1, compensating=True) == {"a": {"a": 1}, "b": {"b": 2}}


def test_a_saga_waiting_for_a_timer_ahead_is_not_stalled():
    saga = FakeSaga(updated_at=NOW - timedelta(hours=1), wake_at=NOW + timedelta(hours=1))
    assert not is_stalled(saga, now=NOW, stuck_after=timedelta(minutes=5))


def test_a_saga_whose_timer_is_long_overdue_is_stalled():
    saga = FakeSaga(updated_at=NOW - timedelta(hours=1), wake_at=NOW - timedelta(minutes=10))
    assert is_stalled(saga, now=NOW, stuck_after=timedelta(minutes=5))


def test_a_saga_that_moved_recently_is_not_stalled():
    saga = FakeSaga(updated_at=NOW - timedelta(seconds=10), wake_at=None)
    assert not is_stalled(saga, now=NOW, stuck_after=timedelta(minutes=5))


def test_a_finished_saga_is_never_stalled():
    saga = FakeSaga(status="completed", updated_at=NOW - timedelta(days=1))
    assert not is_stalled(saga, now=NOW, stuck_after=timedelta(minutes=5))
