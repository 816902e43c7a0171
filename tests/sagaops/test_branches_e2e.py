"""Parallel groups end to end: real PostgreSQL, Redis, broker and Celery worker processes."""

import pytest

from sagaops.services import saga_start
from tests.conftest import other_workers_paused, start_worker
from tests.helpers import event_kinds, step_statuses, wait_for_status
from tests.reliability.conftest import wait_for_step
from tests.sagas import calls, times

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def workers():
    """Workers of the test's own, with room for branches to run side by side."""
    started = []

    def start(name, concurrency=4, **env):
        worker = start_worker(name, concurrency=concurrency, **env)
        started.append(worker)
        return worker

    with other_workers_paused():
        yield start
        for worker in started:
            worker.stop()


def start(payload=None, saga_type="test.parallel"):
    saga, _ = saga_start(saga_type=saga_type, payload=payload or {})
    return saga


def overlap(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def test_every_branch_succeeds_then_the_saga_goes_on(workers):
    workers("branches")
    saga = wait_for_status(start({"sleep": {"fail": 0.5}}).id)
    assert saga.status == "completed"
    assert set(step_statuses(saga).values()) == {"succeeded"}
    ran = {t["step"]: t for t in times(saga.id)}
    # the branches ran side by side, after the first step and before the last
    assert overlap(ran["p1"], ran["p2"]) and overlap(ran["p1"], ran["p3a"])
    assert ran["p3a"]["end"] <= ran["p3b"]["start"]  # a branch's sequence runs in order
    assert ran["first"]["end"] <= min(ran[s]["start"] for s in ("p1", "p2", "p3a"))
    assert max(ran[s]["end"] for s in ("p1", "p2", "p3b")) <= ran["last"]["start"]


def test_a_failed_branch_compensates_the_succeeded_branches_concurrently_then_earlier_steps(workers):
    workers("branches")
    # given p2 refused while p1 and p3a are under way (p3b, after p3a, never starts)
    saga = start({"fail": {"p2": "business"}, "sleep": {"fail": 0.3, "comp": 0.5}})
    saga = wait_for_status(saga.id)
    assert saga.status == "compensated"
    assert step_statuses(saga) == {
        "first": "compensated",
        "p1": "compensated",
        "p2": "failed",
        "p3a": "compensated",
        "p3b": "pending",
        "last": "pending",
    }
    undone = {t["step"]: t for t in times(saga.id) if t["phase"] == "comp"}
    assert set(undone) == {"first", "p1", "p3a"}  # exactly what took effect
    assert overlap(undone["p1"], undone["p3a"])  # the branches, concurrently
    assert max(undone[s]["end"] for s in ("p1", "p3a")) <= undone["first"]["start"]  # then the earlier steps


def test_a_failed_branch_undoes_a_finished_sequence_backwards(workers):
    workers("branches")
    # given p2 fails only once p3a and p3b are done
    saga = wait_for_status(start({"fail": {"p2": "business"}, "delay": {"p2": 1.5}, "sleep": {"comp": 0.5}}).id)
    assert saga.status == "compensated"
    undone = {t["step"]: t for t in times(saga.id) if t["phase"] == "comp"}
    assert set(undone) == {"first", "p1", "p3a", "p3b"}
    assert overlap(undone["p1"], undone["p3b"])
    assert undone["p3b"]["end"] <= undone["p3a"]["start"]  # a branch's sequence, backwards


def test_a_branch_retries_on_its_own_policy(workers):
    workers("branches")
    saga = wait_for_status(start({"fail": {"p1": "transient:2"}}).id)
    assert saga.status == "completed"
    assert [c for c in calls(saga.id) if ":p1:" in c] == ["fail:p1:1", "fail:p1:2", "fail:p1:3"]
    assert [c for c in calls(saga.id) if ":p2:" in c] == ["fail:p2:1"]


def test_two_branches_finishing_in_the_same_instant_both_checkpoint(workers):
    workers("branches")
    for _ in range(3):
        saga = wait_for_status(start({"barrier": ["left", "right"]}, saga_type="test.barrier").id)
        assert saga.status == "completed"
        assert step_statuses(saga) == {"left": "succeeded", "right": "succeeded"}
        assert event_kinds(saga).count("step_succeeded") == 2
        assert event_kinds(saga).count("step_started") == 2  # neither was run again


def test_a_worker_killed_mid_branch_the_branch_is_retried_and_the_saga_completes(workers):
    first = workers("doomed")
    saga = start({"sleep": {"fail": 3}})
    wait_for_step(saga.id, "p1", ["running"])
    first.kill()
    workers("rescuer")
    saga = wait_for_status(saga.id, timeout=90)
    assert saga.status == "completed"
    assert set(step_statuses(saga).values()) == {"succeeded"}
    assert saga.steps.get(name="p1").attempts >= 1
