"""Repairs with data over the API: complete by hand, edit a result, preview a forced compensation."""

import pytest
from django.contrib.auth.models import Permission

from sagaops.models import SagaEvent, SagaStep
from tests.api.conftest import DONE_BEFORE_E, make_saga

pytestmark = pytest.mark.django_db


@pytest.fixture
def repairer(operator, operator_user):
    operator_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["complete_step_saga", "edit_result_saga"])
    )
    return operator


def stuck_on_e():
    return make_saga(steps={**DONE_BEFORE_E, "e": "failed"})


def test_complete_by_hand_records_the_result_and_runs_the_saga_on(repairer):
    saga = stuck_on_e()
    body = {"result": {"mail_id": "m-1"}, "reason": "sent by hand", "expected_version": 5}

    response = repairer.post(f"/api/sagas/{saga.id}/steps/e/complete-by-hand/", body, format="json")

    assert response.status_code == 202
    assert response.json()["status"] == "running"
    assert SagaStep.objects.get(saga=saga, name="e").result == {"mail_id": "m-1"}
    event = SagaEvent.objects.get(saga=saga, kind="operator_complete_step")
    assert (event.actor, event.reason, event.detail["result"]) == ("oper", "sent by hand", {"mail_id": "m-1"})


def test_complete_by_hand_needs_a_result_and_a_reason(repairer):
    saga = stuck_on_e()
    response = repairer.post(f"/api/sagas/{saga.id}/steps/e/complete-by-hand/", {"reason": "x"}, format="json")
    assert (response.status_code, list(response.json())) == (400, ["result"])
    response = repairer.post(f"/api/sagas/{saga.id}/steps/e/complete-by-hand/", {"result": 1}, format="json")
    assert (response.status_code, list(response.json())) == (400, ["reason"])


def test_complete_by_hand_of_a_step_that_is_not_next_is_a_409_saying_why(repairer):
    saga = stuck_on_e()
    response = repairer.post(
        f"/api/sagas/{saga.id}/steps/b/complete-by-hand/", {"result": 1, "reason": "x"}, format="json"
    )
    assert response.status_code == 409
    assert (
        response.json()["error"]
        == "step b is succeeded: only the next step, failed, held or waiting, can be completed by hand"
    )


def test_a_stale_version_is_refused(repairer):
    saga = stuck_on_e()
    body = {"result": 1, "reason": "x", "expected_version": 4}
    response = repairer.post(f"/api/sagas/{saga.id}/steps/e/complete-by-hand/", body, format="json")
    assert response.status_code == 409 and "changed since you looked" in response.json()["error"]


def test_edit_result_records_the_diff_and_leaves_the_saga_stuck(repairer):
    saga = stuck_on_e()
    SagaStep.objects.filter(saga=saga, name="c").update(result={"to": "old"})

    response = repairer.post(
        f"/api/sagas/{saga.id}/steps/c/result/", {"result": {"to": "new"}, "reason": "typo"}, format="json"
    )

    assert (response.status_code, response.json()["status"]) == (202, "stuck")
    assert SagaStep.objects.get(saga=saga, name="c").result == {"to": "new"}
    event = SagaEvent.objects.get(saga=saga, kind="operator_edit_result")
    assert event.detail == {"step": "c", "diff": {"to": {"before": "old", "after": "new"}}}


def test_each_repair_with_data_needs_its_own_permission(operator):
    saga = stuck_on_e()
    response = operator.post(
        f"/api/sagas/{saga.id}/steps/e/complete-by-hand/", {"result": 1, "reason": "x"}, format="json"
    )
    assert (response.status_code, response.json()["error"]) == (
        403,
        "you need the sagaops.complete_step_saga permission",
    )
    response = operator.post(f"/api/sagas/{saga.id}/steps/c/result/", {"result": 1, "reason": "x"}, format="json")
    assert (response.status_code, response.json()["error"]) == (403, "you need the sagaops.edit_result_saga permission")


def test_the_compensation_preview_lists_the_compensations_in_order_with_inputs(viewer):
    saga = make_saga(status="running", steps={"a": "succeeded", "b": "succeeded", "c": "running"})
    SagaStep.objects.filter(saga=saga, name="a").update(result={"order": 7})

    body = viewer.get(f"/api/sagas/{saga.id}/compensation-preview/").json()

    assert (body["allowed"], body["refusal"], body["payload"]) == (True, "", {"n": 1})
    assert [(c["step"], c["status"], c["outcome_unknown"]) for c in body["compensations"]] == [
        ("c", "failed", True),
        ("b", "succeeded", False),
        ("a", "succeeded", False),
    ]
    assert body["compensations"][2]["input"] == {
        "results": {"a": {"order": 7}},
        "idempotency_key": f"{saga.id}:a:compensate",
        "action_key": f"{saga.id}:a",
    }
    assert SagaStep.objects.get(saga=saga, name="c").status == "running"  # a preview changes nothing


def test_the_preview_says_why_compensation_is_refused(viewer):
    saga = stuck_on_e()
    body = viewer.get(f"/api/sagas/{saga.id}/compensation-preview/").json()
    assert body["allowed"] is False and body["refusal"].startswith("the saga is past its pivot (d)")
