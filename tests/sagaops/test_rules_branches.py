"""sagaops.rules.branches and the Parallel DSL: pure rules, no database. One test per rule."""

from datetime import timedelta

import pytest

from sagaops.definitions import Parallel, RetryPolicy, SagaDefinition, Step
from sagaops.exceptions import SagaDefinitionError
from sagaops.rules import failure_of, next_move
from sagaops.rules.branches import (
    branch_goes_on,
    branch_wake,
    can_retry_branch,
    on_branch_failed,
    on_branch_lease_expired,
    on_branch_succeeded,
    retry_branch_change,
)
from tests.sagaops.rule_fakes import NOW, FakeSaga, steps_of
from tests.sagas import BusinessError, TransientError, action, compensation, parallel_flow

# test.parallel: first | fan: p1, p2, [p3a, p3b] | last
LEASE = NOW + timedelta(seconds=30)


def move(status, steps):
    return next_move(status=status, definition=parallel_flow, steps=steps, deadline=None, now=NOW)


def s(*statuses, **overrides):
    return steps_of(parallel_flow, *statuses, **overrides)


def step(name, **options):
    return Step(name, action, compensation=compensation, **options)


# --- the DSL ---


def test_a_group_is_flattened_into_the_definition_with_its_branches():
    assert [x.name for x in parallel_flow.steps] == ["first", "p1", "p2", "p3a", "p3b", "last"]
    (group,) = parallel_flow.groups
    assert group.branches == ((1,), (2,), (3, 4))
    assert parallel_flow.steps[4].group == "fan" and parallel_flow.steps[4].branch == "p3a"
    assert parallel_flow.group_of(3) is group and parallel_flow.group_of(0) is None


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([step("a"), Parallel("g", branches=[step("a"), step("b")])], "unique (across branches too): ['a']"),
        ([Parallel("g", branches=[step("a"), step("g")])], "unique (across branches too): ['g']"),
        ([Parallel("g", branches=[step("a"), step("b", pivot=True)])], "step 'b': a pivot cannot be inside a branch"),
        ([Parallel("g", branches=[step("a")])], "branches: a group needs at least two branches"),
        ([Parallel("g", branches=[step(f"s{i}") for i in range(33)])], "branches: at most 32 branches, not 33"),
        ([Parallel("g", branches=[step("a"), [step(f"s{i}") for i in range(6)]])], "a branch has 1 to 5 steps"),
        ([Parallel("g", branches=[step("a"), Parallel("h", branches=[step("b"), step("c")])])], "groups do not nest"),
        ([Parallel("g", branches=[step("a"), step("b")], max_fan_out=0)], "max_fan_out: must be at least 1"),
        ([Parallel("g", branches=[step("a"), step("b")], timeout=0)], "timeout: must be positive seconds"),
        ([step("a"), "b"], "steps: 'b' is neither a Step nor a Parallel group"),
    ],
)
def test_registration_refuses_a_bad_group_naming_the_rule(steps, message):
    with pytest.raises(SagaDefinitionError) as refused:
        SagaDefinition(name="bad", steps=steps)
    assert str(refused.value).startswith("bad: ")
    assert message in str(refused.value)


# --- forward ---


def test_the_group_forks_every_branch_s_first_step_at_once():
    m = move("running", s("succeeded", "pending", "pending", "pending", "pending", "pending"))
    assert (m.kind, m.indexes) == ("fork", (1, 2, 3))


def test_a_branch_sequence_forks_its_next_step_when_the_previous_one_succeeded():
    m = move(
        "running",
        s("succeeded", "running", "succeeded", "succeeded", "pending", "pending", p1={"lease_expires_at": LEASE}),
    )
    assert (m.kind, m.indexes) == ("fork", (4,))


def test_max_fan_out_caps_the_branches_running_at_once():
    group = SagaDefinition(
        name="capped", steps=[Parallel("g", branches=[step("a"), step("b"), step("c")], max_fan_out=2)]
    )
    steps = steps_of(group, "running", "pending", "pending", a={"lease_expires_at": LEASE})
    m = next_move(status="running", definition=group, steps=steps, deadline=None, now=NOW)
    assert (m.kind, m.indexes) == ("fork", (1,))


def test_the_join_waits_for_the_earliest_lease_of_the_running_branches():
    later = LEASE + timedelta(seconds=5)
    steps = s("succeeded", "running", "running", "succeeded", "succeeded", "pending",
              p1={"lease_expires_at": later}, p2={"lease_expires_at": LEASE})  # fmt: skip
    assert (move("running", steps).kind, move("running", steps).until) == ("wait", LEASE)


def test_a_branch_whose_lease_ran_out_is_expired():
    steps = s("succeeded", "running", "succeeded", "succeeded", "succeeded", "pending", p1={"lease_expires_at": NOW})
    m = move("running", steps)
    assert (m.kind, m.index) == ("expire_branch", 1)


def test_every_branch_done_moves_on_past_the_group():
    m = move("running", s("succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "pending"))
    assert (m.kind, m.index) == ("run", 5)


def test_a_failed_branch_awaits_its_running_siblings_and_starts_no_more():
    steps = s("succeeded", "failed", "running", "succeeded", "pending", "pending", p2={"lease_expires_at": LEASE})
    assert (move("running", steps).kind, move("running", steps).until) == ("wait", LEASE)


def test_a_failed_branch_turns_the_saga_back_once_its_siblings_are_quiet():
    m = move("running", s("succeeded", "failed", "succeeded", "succeeded", "pending", "pending"))
    assert (m.kind, m.reason) == ("start_compensation", "branch p1 of fan failed")


def test_the_group_timeout_turns_the_saga_back():
    started = NOW - timedelta(seconds=5)
    group = SagaDefinition(name="timed", steps=[Parallel("g", branches=[step("a"), step("b")], timeout=4)])
    steps = steps_of(group, "succeeded", "pending", a={"started_at": started}, b={"next_attempt_at": LEASE})
    m = next_move(status="running", definition=group, steps=steps, deadline=None, now=NOW)
    assert (m.kind, m.reason) == ("start_compensation", "group g timed out after 4s")


def test_past_the_pivot_a_failed_branch_makes_the_saga_stuck():
    group = SagaDefinition(name="late", steps=[step("p", pivot=True), Parallel("g", branches=[step("a"), step("b")])])
    steps = steps_of(group, "succeeded", "failed", "succeeded")
    assert next_move(status="running", definition=group, steps=steps, deadline=None, now=NOW).kind == "group_stuck"


# --- compensation ---


def test_the_branches_that_took_effect_are_compensated_together():
    steps = s("succeeded", "succeeded", "failed", "succeeded", "succeeded", "pending")
    m = move("compensating", steps)
    assert (m.kind, m.indexes) == ("fork_compensation", (1, 4))  # p3b before p3a, p2 not at all


def test_a_remote_branch_with_an_unknown_outcome_is_compensated_like_a_remote_step():
    steps = s("succeeded", "succeeded", "failed", "compensated", "pending", "pending", p2={"outcome_unknown": True})
    assert move("compensating", steps).indexes == (1, 2)


def test_a_branch_waiting_for_a_retry_with_an_unknown_outcome_is_compensated():
    steps = s("succeeded", "failed", "pending", "succeeded", "pending", "pending", p2={"outcome_unknown": True})
    assert move("compensating", steps).indexes == (2, 3)


def test_compensation_awaits_a_branch_still_under_way():
    steps = s("succeeded", "running", "failed", "compensated", "pending", "pending", p1={"lease_expires_at": LEASE})
    assert (move("compensating", steps).kind, move("compensating", steps).until) == ("wait", LEASE)


def test_after_the_group_compensation_goes_on_backwards():
    steps = s("succeeded", "compensated", "failed", "compensated", "compensated", "pending")
    m = move("compensating", steps)
    assert (m.kind, m.index) == ("compensate", 0)


# --- outcomes ---


def test_a_branch_outcome_never_changes_the_saga_status():
    steps = s("succeeded", "running", "running", "running", "pending", "pending")
    done = on_branch_succeeded(steps[1], result={"ok": 1}, attempts=1, now=NOW)
    refused = on_branch_failed(parallel_flow, steps[2], failure_of(BusinessError("no"), RetryPolicy(
        non_retryable=(BusinessError,))), attempts=1, now=NOW)  # fmt: skip
    assert "status" not in done.saga and "status" not in refused.saga
    assert done.step["status"] == "succeeded" and refused.step["status"] == "failed"
    assert refused.step["outcome_unknown"] is False  # refused: nothing happened


def test_a_branch_retries_on_its_own_policy_and_a_transient_failure_leaves_its_outcome_unknown():
    steps = s("succeeded", "running", "running", "running", "pending", "pending")
    change = on_branch_failed(
        parallel_flow, steps[1], failure_of(TransientError("x"), RetryPolicy()), attempts=1, now=NOW
    )
    assert change.step["status"] == "pending" and change.step["next_attempt_at"] > NOW
    assert change.step["outcome_unknown"] is True


def test_a_branch_whose_worker_died_is_counted_and_retried():
    steps = s("succeeded", "running", "running", "running", "pending", "pending", p1={"attempts": 1})
    change = on_branch_lease_expired(parallel_flow, steps[1], now=NOW)
    assert change.step["status"] == "pending" and "WorkerLost" in change.step["last_error_type"]


def test_only_a_failed_branch_of_a_running_or_stuck_saga_can_be_retried():
    steps = s("succeeded", "failed", "succeeded", "succeeded", "succeeded", "pending")
    assert can_retry_branch(FakeSaga(status="stuck"), parallel_flow, steps[1]) is None
    assert "only a failed branch" in can_retry_branch(FakeSaga(status="stuck"), parallel_flow, steps[2]).message
    assert "not a branch" in can_retry_branch(FakeSaga(status="stuck"), parallel_flow, steps[0]).message
    assert "compensated" in can_retry_branch(FakeSaga(status="compensated"), parallel_flow, steps[1]).message
    change = retry_branch_change(FakeSaga(status="stuck"), steps[1], now=NOW)
    assert change.saga["status"] == "running" and change.step == {
        "status": "pending", "attempts": 0, "next_attempt_at": None, "finished_at": None}  # fmt: skip


def test_only_the_last_branch_in_flight_sends_the_join():
    steps = s("succeeded", "running", "running", "running", "pending", "pending")
    done = on_branch_succeeded(steps[1], result={}, attempts=1, now=NOW)
    assert branch_wake(done, siblings_in_flight=True) == (False, None)  # the saga's timer stays as it is
    assert branch_wake(done, siblings_in_flight=False) == (True, done.saga["wake_at"])


def test_a_branch_retry_pulls_the_saga_s_timer_in_without_a_join():
    steps = s("succeeded", "running", "running", "running", "pending", "pending")
    retry = on_branch_failed(
        parallel_flow, steps[1], failure_of(TransientError("x"), RetryPolicy()), attempts=1, now=NOW
    )
    assert branch_wake(retry, siblings_in_flight=True) == (False, retry.step["next_attempt_at"])


def test_a_branch_that_goes_on_sends_the_join_while_siblings_run():
    steps = s("succeeded", "running", "running", "running", "pending", "pending")
    done = on_branch_succeeded(steps[3], result={}, attempts=1, now=NOW)  # p3a: p3b comes next
    (group,) = parallel_flow.groups
    goes_on = branch_goes_on(group, 3, compensating=False)
    assert goes_on and not branch_goes_on(group, 4, compensating=False)
    assert branch_goes_on(group, 4, compensating=True) and not branch_goes_on(group, 3, compensating=True)
    assert branch_wake(done, siblings_in_flight=True, branch_goes_on=goes_on)[0] is True
