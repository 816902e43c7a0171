"""sagaops.rules.data_repairs: complete by hand, edit a result, the compensation plan. No database."""

from datetime import timedelta

from sagaops.rules import (
    can_complete_by_hand,
    can_edit_result,
    compensation_plan,
    complete_by_hand_change,
    edit_result_change,
    result_diff,
)
from tests.sagaops.rule_fakes import NOW, FakeSaga, steps_of
from tests.sagas import flow  # a (local), b, c (remote), d (pivot), e (remote, no compensation)

DONE = ("succeeded",) * 4


def test_a_failed_step_of_a_stuck_saga_can_be_completed_by_hand():
    steps = steps_of(flow, *DONE, "failed")
    assert can_complete_by_hand(FakeSaga(status="stuck"), steps, "e", now=NOW) is None


def test_a_held_step_can_be_completed_by_hand():
    steps = steps_of(flow, "succeeded", "held", "pending", "pending", "pending")
    assert can_complete_by_hand(FakeSaga(status="running"), steps, "b", now=NOW) is None


def test_only_the_next_step_can_be_completed_by_hand():
    steps = steps_of(flow, "succeeded", "held", "pending", "pending", "pending")
    refusal = can_complete_by_hand(FakeSaga(status="running"), steps, "c", now=NOW)
    assert refusal.message == "step c is pending: only the next step, failed, held or waiting, can be completed by hand"


def test_a_step_running_now_cannot_be_completed_by_hand():
    steps = steps_of(flow, *DONE, "running", e={"lease_expires_at": NOW + timedelta(seconds=9)})
    refusal = can_complete_by_hand(FakeSaga(status="running"), steps, "e", now=NOW)
    assert refusal.transient and refusal.message.startswith("an attempt of step e is in flight")


def test_a_finished_or_compensating_saga_cannot_be_completed_by_hand():
    assert (
        "completed saga"
        in can_complete_by_hand(FakeSaga(status="completed"), steps_of(flow, *DONE, "succeeded"), "e", now=NOW).message
    )
    steps = steps_of(flow, "succeeded", "compensation_failed", "failed", "pending", "pending")
    assert "compensating" in can_complete_by_hand(FakeSaga(status="stuck"), steps, "c", now=NOW).message
    assert can_complete_by_hand(FakeSaga(status="stuck"), steps, "zz", now=NOW).field == "step"


def test_completing_by_hand_records_the_result_and_runs_the_saga_on():
    steps = steps_of(flow, *DONE, "failed")
    change = complete_by_hand_change(FakeSaga(status="stuck"), steps, "e", {"id": "x"}, now=NOW)
    assert (change.step["status"], change.step["result"], change.saga["status"]) == (
        "succeeded",
        {"id": "x"},
        "running",
    )
    assert change.events[0].detail == {"step": "e", "result": {"id": "x"}, "was": "failed"}


def test_a_result_can_be_edited_while_the_saga_is_stuck_before_the_step_that_reads_it():
    steps = steps_of(flow, *DONE, "failed")
    assert can_edit_result(FakeSaga(status="stuck"), steps, "c", now=NOW) is None
    running = steps_of(flow, "succeeded", "succeeded", "pending", "pending", "pending")
    assert "waits for you" in can_edit_result(FakeSaga(status="running"), running, "a", now=NOW).message
    held = steps_of(flow, "succeeded", "held", "pending", "pending", "pending")
    assert can_edit_result(FakeSaga(status="running"), held, "a", now=NOW) is None


def test_only_a_succeeded_step_has_a_result_to_edit():
    steps = steps_of(flow, *DONE, "failed")
    assert can_edit_result(FakeSaga(status="stuck"), steps, "e", now=NOW).message.startswith("step e is failed")


def test_an_edit_changes_only_the_result_and_records_the_diff():
    steps = steps_of(flow, *DONE, "failed", c={"result": {"id": 1, "to": "old"}})
    change = edit_result_change(FakeSaga(status="stuck"), steps, "c", {"id": 1, "to": "new"})
    assert (change.saga, change.step) == ({"status": "stuck"}, {"result": {"id": 1, "to": "new"}})
    assert change.events[0].detail == {"step": "c", "diff": {"to": {"before": "old", "after": "new"}}}


def test_a_result_diff_of_non_objects_shows_both_values():
    assert result_diff([1], [2]) == {"": {"before": [1], "after": [2]}}
    assert result_diff(3, 3) == {}


def test_the_compensation_plan_lists_what_would_run_newest_first_with_inputs():
    steps = steps_of(flow, "succeeded", "succeeded", "running", "pending", "pending", a={"result": {"n": 1}})
    plan = compensation_plan("S", FakeSaga(), flow, steps)
    assert [(p["step"], p["status"], p["outcome_unknown"]) for p in plan] == [
        ("c", "failed", True),  # in flight: it may have taken effect, so it is compensated too
        ("b", "succeeded", False),
        ("a", "succeeded", False),
    ]
    assert plan[0]["input"]["idempotency_key"] == "S:c:compensate"
    assert plan[2]["input"]["results"] == {"a": {"n": 1}}
    assert steps[2].status == "running"  # the plan changed nothing
