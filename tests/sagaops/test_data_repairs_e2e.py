"""Repairs with data through a real Celery worker: a step completed by hand, and a result edited
before the next step is retried, reach the next step in `ctx.results`."""

import pytest
from django.contrib.auth.models import User

from sagaops.models import SagaEvent
from sagaops.services import saga_retry, saga_start, step_complete_by_hand, step_result_edit
from tests.helpers import wait_for_status
from tests.sagas import fix, seen

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


@pytest.fixture
def ops(db):
    return User.objects.create_user("ops", password="x", is_staff=True)


def test_a_step_completed_by_hand_gives_its_result_to_the_next_step(ops):
    # given: the charge step keeps failing past the pivot, so the saga is stuck on it
    saga, _ = saga_start(saga_type="test.repair", payload={"fail": {"charge": "always"}})
    saga = wait_for_status(saga.id)
    assert saga.status == "stuck"
    # when: the operator charged by hand and records the charge id
    step_complete_by_hand(
        saga_id=saga.id,
        step_name="charge",
        result={"charge_id": "ch_by_hand"},
        user=ops,
        reason="charged in the provider's dashboard",
        expected_version=saga.version,
    )
    # then: the saga goes on, and the next step sees that result
    saga = wait_for_status(saga.id)
    assert saga.status == "completed"
    assert seen(saga.id)[-1]["charge"] == {"charge_id": "ch_by_hand"}
    event = SagaEvent.objects.get(saga=saga, kind="operator_complete_step")
    assert (event.actor, event.reason, event.detail["was"]) == ("ops", "charged in the provider's dashboard", "failed")


def test_an_edited_result_reaches_the_next_step_when_it_is_retried(ops):
    # given: shipping fails past the pivot; the charge's recorded result is wrong
    saga, _ = saga_start(saga_type="test.repair", payload={"fail": {"ship": "always"}})
    saga = wait_for_status(saga.id)
    assert saga.status == "stuck"
    recorded = saga.steps.get(name="charge").result
    # when: the operator corrects it and retries
    corrected = {**recorded, "address": "corrected"}
    saga = step_result_edit(
        saga_id=saga.id, step_name="charge", result=corrected, user=ops, reason="wrong address recorded"
    )
    fix(saga.id)
    saga_retry(saga_id=saga.id, user=ops, reason="address fixed", expected_version=saga.version)
    # then: the retried step is given the corrected result, and the edit is on the timeline with its diff
    saga = wait_for_status(saga.id)
    assert saga.status == "completed"
    assert seen(saga.id)[-1]["charge"] == corrected
    edit = SagaEvent.objects.get(saga=saga, kind="operator_edit_result")
    assert edit.detail == {"step": "charge", "diff": {"address": {"after": "corrected"}}}
