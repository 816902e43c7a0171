"""sagaops.rules.holds and the hold moves of next_move: one test per rule (no database)."""

from datetime import timedelta

import pytest

from sagaops.definitions import BreakerPolicy, SagaDefinition, Step
from sagaops.rules import (
    HOLD_RECHECK,
    breaker_trips,
    can_cancel_release,
    can_pause_release,
    can_release,
    can_release_step,
    holding,
    next_move,
    on_step_held,
    on_step_released,
    release_batch,
    target_refusal,
)
from sagaops.states import StepStatus
from tests.sagaops.rule_fakes import NOW, FakeHold, FakeSaga, steps_of


def noop(ctx):
    return {}


shop = SagaDefinition(
    name="shop",
    steps=[
        Step("reserve", noop, compensation=noop, kind="remote", participant="stock"),
        Step("charge", noop, compensation=noop, kind="remote", participant="pay"),
        Step("confirm", noop, pivot=True),
    ],
)
CHARGE = FakeHold(id=7, saga_type="shop", step="charge")


def move(steps, holds=(), deadline=None, status="running"):
    return next_move(status=status, definition=shop, steps=steps, deadline=deadline, now=NOW, holds=holds)


def test_a_step_about_to_run_under_a_hold_is_held_instead():
    result = move(steps_of(shop, "succeeded", "pending", "pending"), [CHARGE])
    assert (result.kind, result.index, result.hold_id) == ("hold", 1, 7)


def test_a_participant_hold_holds_every_step_that_declares_it():
    hold = FakeHold(id=3, participant="stock")
    assert move(steps_of(shop, "pending", "pending", "pending"), [hold]).kind == "hold"
    assert move(steps_of(shop, "succeeded", "pending", "pending"), [hold]).kind == "run"


def test_a_hold_on_another_step_or_type_does_not_hold():
    other = [FakeHold(id=1, saga_type="shop", step="reserve"), FakeHold(id=2, saga_type="other", step="charge")]
    assert move(steps_of(shop, "succeeded", "pending", "pending"), other).kind == "run"


def test_a_released_hold_no_longer_holds():
    released = FakeHold(id=7, saga_type="shop", step="charge", status="released")
    assert move(steps_of(shop, "succeeded", "pending", "pending"), [released]).kind == "run"


def test_a_step_the_hold_let_go_passes_it_while_it_still_releases():
    steps = steps_of(shop, "succeeded", "pending", "pending", charge={"hold_passes": [7]})
    releasing = FakeHold(id=7, saga_type="shop", step="charge", status="releasing")
    assert move(steps, [releasing]).kind == "run"


def test_a_retry_not_due_yet_waits_rather_than_holds():
    later = NOW + timedelta(seconds=5)
    steps = steps_of(shop, "succeeded", "pending", "pending", charge={"next_attempt_at": later})
    assert (move(steps, [CHARGE]).kind, move(steps, [CHARGE]).until) == ("wait", later)


def test_an_attempt_in_flight_finishes_normally_under_a_hold():
    steps = steps_of(shop, "succeeded", "running", "pending", charge={"lease_expires_at": NOW + timedelta(seconds=9)})
    assert move(steps, [CHARGE]).kind == "wait"


def test_a_held_step_waits_for_its_hold_and_ignores_the_deadline():
    steps = steps_of(shop, "succeeded", "held", "pending", charge={"held_by": 7})
    result = move(steps, [CHARGE], deadline=NOW - timedelta(hours=1))
    assert (result.kind, result.until) == ("wait", NOW + HOLD_RECHECK)


def test_a_held_step_whose_hold_went_away_is_released():
    steps = steps_of(shop, "succeeded", "held", "pending", charge={"held_by": 7})
    assert (move(steps, []).kind, move(steps, []).index) == ("release", 1)


def test_a_held_step_another_hold_covers_is_taken_over_by_it():
    steps = steps_of(shop, "succeeded", "held", "pending", charge={"held_by": 7, "hold_passes": [7]})
    participant = FakeHold(id=9, participant="pay")
    result = move(steps, [CHARGE, participant])
    assert (result.kind, result.hold_id) == ("hold", 9)


def test_holding_burns_no_attempt_and_records_the_hold():
    step = steps_of(shop, "succeeded", "pending", "pending", charge={"attempts": 1})[1]
    change = on_step_held(FakeSaga(), step, CHARGE, now=NOW)
    assert change.step == {"status": "held", "held_by": 7, "held_at": NOW, "next_attempt_at": None}
    assert change.saga["attention_reason"] == "held by hold #7: provider outage"
    assert change.saga["wake_at"] == NOW + HOLD_RECHECK
    assert [e.kind for e in change.events] == ["step_held"]


def test_a_takeover_keeps_the_time_it_was_first_held():
    earlier = NOW - timedelta(minutes=5)
    step = steps_of(shop, "succeeded", "held", "pending", charge={"held_by": 7, "held_at": earlier})[1]
    assert on_step_held(FakeSaga(), step, FakeHold(id=9), now=NOW).step["held_at"] == earlier


def test_release_pushes_the_deadline_back_by_the_time_held_and_lets_it_pass():
    held_at = NOW - timedelta(minutes=3)
    step = steps_of(shop, "succeeded", "held", "pending", charge={"held_by": 7, "held_at": held_at})[1]
    saga = FakeSaga(deadline=NOW + timedelta(minutes=1))
    change = on_step_released(saga, step, now=NOW, hold_id=7)
    assert change.saga["deadline"] == NOW + timedelta(minutes=4)
    assert change.step["status"] == StepStatus.PENDING and change.step["hold_passes"] == [7]
    assert change.events[0].detail == {"hold": 7, "held_seconds": 180.0}


def test_only_a_held_step_of_an_active_saga_can_be_released():
    held = steps_of(shop, "succeeded", "held", "pending")[1]
    assert can_release_step(FakeSaga(), held) is None
    assert can_release_step(FakeSaga(status="resolved"), held).message == "the saga is resolved"
    pending = steps_of(shop, "succeeded", "pending", "pending")[1]
    assert can_release_step(FakeSaga(), pending).message == "the step is no longer held"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"saga_type": "shop", "step": "charge"}, None),
        ({"participant": "pay"}, None),
        ({"saga_type": "nope", "step": "charge"}, "unknown saga type 'nope'"),
        ({"saga_type": "shop", "step": "nope"}, "saga type shop has no step 'nope'"),
        ({"participant": "mail"}, "no registered step declares participant 'mail'"),
        ({"saga_type": "shop"}, "name a step (saga_type and step) or a participant"),
        ({"saga_type": "shop", "step": "charge", "participant": "pay"}, "name a step (saga_type and step) or a "
         "participant, not both"),
    ],
)  # fmt: skip
def test_a_hold_names_a_known_step_or_participant(target, message):
    args = {"saga_type": "", "step": "", "participant": "", **target}
    refusal = target_refusal(**args, definitions=[shop])
    assert (refusal.message if refusal else None) == message


def test_release_needs_a_hold_in_force_and_a_sane_rate():
    assert can_release(FakeHold(status="active"), 5) is None
    assert can_release(FakeHold(status="paused"), 0.5) is None
    assert can_release(FakeHold(status="released"), 5).message == "hold #1 is released: nothing to release"
    assert "rate must be more than 0" in can_release(FakeHold(), 0).message
    assert "at most 1000" in can_release(FakeHold(), 5000).message


def test_only_a_running_release_pauses_and_only_a_release_cancels():
    assert can_pause_release(FakeHold(status="releasing")) is None
    assert can_pause_release(FakeHold(status="active")).message == "hold #1 is active, not releasing"
    assert can_cancel_release(FakeHold(status="paused")) is None
    assert can_cancel_release(FakeHold(status="active")).message == "hold #1 is active: no release to cancel"


@pytest.mark.parametrize(("rate", "expected"), [(10, (10, 1.0)), (0.5, (1, 2.0)), (2.5, (2, 0.8))])
def test_a_release_tick_lets_its_share_of_the_rate_go(rate, expected):
    assert release_batch(rate) == expected


POLICY = BreakerPolicy(window=30, min_failures=5, failure_rate=0.5)


def test_the_breaker_trips_on_enough_failures_at_the_rate():
    assert breaker_trips({100: (2, 3), 110: (1, 2)}, POLICY, now=115)


def test_the_breaker_needs_the_minimum_number_of_failures():
    assert not breaker_trips({100: (0, 4)}, POLICY, now=115)


def test_the_breaker_needs_the_failure_rate():
    assert not breaker_trips({100: (10, 6)}, POLICY, now=115)


def test_the_breaker_forgets_failures_outside_its_window():
    assert not breaker_trips({50: (0, 20), 100: (0, 1)}, POLICY, now=115)


def test_holding_finds_the_first_hold_in_force_that_matches():
    step = steps_of(shop, "succeeded", "pending", "pending")[1]
    paused = FakeHold(id=4, saga_type="shop", step="charge", status="paused")
    assert holding([FakeHold(id=2, participant="stock"), paused], shop, step) is paused
