"""Child sagas end to end: real PostgreSQL, Redis, broker and a Celery worker process."""

import pytest

from sagaops.definitions import StepContext
from sagaops.models import Saga
from sagaops.services import saga_start
from sagaops.services.children import child_start
from tests.helpers import step_statuses, wait_for_status
from tests.sagas import times

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


def start(payload=None):
    saga, _ = saga_start(saga_type="test.parent", payload=payload or {})
    return saga


def child_of(parent) -> Saga:
    return Saga.objects.get(parent=parent)


def test_the_parent_takes_the_completed_child_s_results():
    parent = wait_for_status(start().id)
    assert parent.status == "completed"
    child = child_of(parent)
    assert (child.status, child.parent_step) == ("completed", "kid")
    kid = parent.steps.get(name="kid").result
    assert kid["child_saga_id"] == str(child.pk)
    assert set(kid["results"]) == {"c1", "c2"}


def test_a_child_that_fails_compensates_the_parent():
    parent = wait_for_status(start({"child": {"fail": {"c2": "business"}}}).id)
    assert parent.status == "compensated"
    child = child_of(parent)
    assert child.status == "compensated"
    assert step_statuses(parent) == {"before": "compensated", "kid": "failed", "after": "pending"}
    assert "was compensated" in parent.steps.get(name="kid").last_error


def test_a_parent_that_turns_back_compensates_its_completed_child():
    parent = wait_for_status(start({"fail": {"after": "business"}}).id, timeout=60)
    assert parent.status == "compensated"
    child = child_of(parent)
    assert child.status == "compensated"
    assert step_statuses(child) == {"c1": "compensated", "c2": "compensated"}
    assert child.events.filter(kind="child_recalled").exists()
    undone_child = {t["step"]: t for t in times(child.id) if t["phase"] == "comp"}
    undone_parent = {t["step"]: t for t in times(parent.id) if t["phase"] == "comp"}
    assert max(t["end"] for t in undone_child.values()) <= undone_parent["before"]["start"]  # child first


def test_starting_the_child_again_finds_the_same_child():
    parent, _ = saga_start(saga_type="test.child", payload={})  # any saga stands in for the parent here
    ctx = StepContext(str(parent.pk), "test.parent", "kid", {}, {}, 1, f"{parent.pk}:kid", "")
    first = child_start(ctx, saga_type="test.child", payload=lambda c: {"n": 1})
    again = child_start(ctx, saga_type="test.child", payload=lambda c: {"n": 1})
    assert first == again
    assert Saga.objects.filter(parent=parent).count() == 1
