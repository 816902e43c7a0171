"""Operator repairs over the API: permission, reason, state, fence, replay, timeline."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from sagaops.models import Saga, SagaEvent
from tests.api.conftest import DONE_BEFORE_E, make_saga

pytestmark = pytest.mark.django_db

REASON = {"reason": "the mail server is back"}


def stuck_after_pivot():
    return make_saga(steps={**DONE_BEFORE_E, "e": "failed"})


def stuck_before_pivot():
    # a running saga whose step c has stopped answering: an operator may turn it back
    return make_saga(status="running", steps={"a": "succeeded", "b": "succeeded", "c": "running"})


def stuck_in_compensation():
    return make_saga(steps={"a": "succeeded", "b": "compensation_failed", "c": "failed"})


def test_retry_moves_a_stuck_saga_on_and_records_who_and_why(operator):
    saga = stuck_after_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/retry/", REASON, format="json")

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["version"]) == ("running", 6)
    event = SagaEvent.objects.get(saga=saga, kind="operator_retry")
    assert (event.actor, event.actor_type, event.reason) == ("oper", "operator", "the mail server is back")


def test_retry_with_an_edited_payload(operator):
    saga = stuck_after_pivot()

    response = operator.post(
        f"/api/sagas/{saga.id}/retry/", {**REASON, "context": {"payload": {"n": 2}}}, format="json"
    )

    assert response.status_code == 202
    assert response.json()["context"]["payload"] == {"n": 2}
    event = SagaEvent.objects.get(saga=saga, kind="operator_retry")
    assert event.detail["payload_diff"] == {"n": {"before": 1, "after": 2}}


def test_retry_with_a_mistyped_context_names_it(operator):
    saga = stuck_after_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/retry/", {**REASON, "context": {"payload": 3}}, format="json")

    assert response.status_code == 400
    assert "context" in response.json()


def test_retry_of_a_completed_saga_is_refused_with_its_status(operator):
    saga = make_saga(status="completed")

    response = operator.post(f"/api/sagas/{saga.id}/retry/", REASON, format="json")

    assert response.status_code == 409
    assert response.json() == {"error": "cannot retry forward a completed saga", "status": "completed"}


@pytest.mark.parametrize("body", [{}, {"reason": "   "}, {"reason": 5 * [1]}])
def test_an_action_without_a_reason_is_400(operator, body):
    saga = stuck_after_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/resolve/", body, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()


def test_a_stale_expected_version_is_refused(operator):
    saga = stuck_after_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/resolve/", {**REASON, "expected_version": 4}, format="json")

    assert response.status_code == 409
    assert response.json()["status"] == "stuck"
    assert "version 4, now 5" in response.json()["error"]


def test_a_double_submission_with_the_same_key_acts_once(operator):
    saga = stuck_after_pivot()
    url = f"/api/sagas/{saga.id}/retry/"

    first = operator.post(url, REASON, format="json", HTTP_IDEMPOTENCY_KEY="click-1")
    second = operator.post(url, REASON, format="json", HTTP_IDEMPOTENCY_KEY="click-1")

    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json() == second.json()
    assert SagaEvent.objects.filter(saga=saga, kind="operator_retry").count() == 1


def test_a_double_submission_with_the_version_it_saw_acts_once(operator):
    saga = stuck_before_pivot()
    url = f"/api/sagas/{saga.id}/compensate/"
    body = {**REASON, "expected_version": 5}

    first = operator.post(url, body, format="json")
    second = operator.post(url, body, format="json")

    assert (first.status_code, second.status_code) == (202, 409)
    assert second.json()["status"] == "compensating"


def test_an_action_needs_its_permission(viewer):
    saga = stuck_after_pivot()

    response = viewer.post(f"/api/sagas/{saga.id}/retry/", REASON, format="json")

    assert response.status_code == 403
    assert response.json() == {"error": "you need the sagaops.retry_saga permission"}


def test_a_service_cannot_repair(service):
    saga = stuck_after_pivot()

    assert service.post(f"/api/sagas/{saga.id}/resolve/", REASON, format="json").status_code == 403


def test_an_action_without_a_token_is_401(anonymous):
    saga = stuck_after_pivot()

    assert anonymous.post(f"/api/sagas/{saga.id}/resolve/", REASON, format="json").status_code == 401


def test_an_action_on_an_unknown_saga_is_404(operator):
    assert operator.post(f"/api/sagas/{uuid.uuid4()}/resolve/", REASON, format="json").status_code == 404


def test_compensate(operator):
    saga = stuck_before_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/compensate/", REASON, format="json")

    assert (response.status_code, response.json()["status"]) == (202, "compensating")


def test_compensate_past_the_pivot_is_refused(operator):
    saga = stuck_after_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/compensate/", REASON, format="json")

    assert (response.status_code, response.json()["status"]) == (409, "stuck")
    assert "past its pivot" in response.json()["error"]


def test_compensate_of_a_resolved_saga_is_refused(operator):
    saga = make_saga(status="resolved")

    response = operator.post(f"/api/sagas/{saga.id}/compensate/", REASON, format="json")

    assert (response.status_code, response.json()["status"]) == (409, "resolved")


def test_retry_compensation(operator):
    saga = stuck_in_compensation()

    response = operator.post(f"/api/sagas/{saga.id}/retry-compensation/", REASON, format="json")

    assert (response.status_code, response.json()["status"]) == (202, "compensating")
    assert response.json()["steps"][1]["status"] == "compensating"


def test_retry_compensation_when_none_failed_is_refused(operator):
    saga = stuck_after_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/retry-compensation/", REASON, format="json")

    assert response.status_code == 409
    assert response.json() == {"error": "no compensation has failed: nothing to retry", "status": "stuck"}


def test_resolve(operator):
    saga = stuck_after_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/resolve/", REASON, format="json")

    assert (response.status_code, response.json()["status"]) == (202, "resolved")
    assert response.json()["finished_at"] is not None


def test_resolve_of_a_running_saga_with_an_attempt_in_flight_is_refused(operator):
    saga = make_saga(status="running", steps={"a": "succeeded", "b": "running"})
    saga.steps.filter(name="b").update(lease_expires_at=timezone.now() + timedelta(seconds=30))

    response = operator.post(f"/api/sagas/{saga.id}/resolve/", REASON, format="json")

    assert response.status_code == 409
    assert "an attempt of step b is in flight" in response.json()["error"]
    assert Saga.objects.get(pk=saga.pk).status == "running"


def test_resolve_of_a_running_saga_that_holds_nothing(operator):
    saga = make_saga(status="running", steps={"a": "succeeded"})

    response = operator.post(f"/api/sagas/{saga.id}/resolve/", REASON, format="json")

    assert (response.status_code, response.json()["status"]) == (202, "resolved")


def test_skip_a_failed_step(operator):
    saga = stuck_after_pivot()

    response = operator.post(f"/api/sagas/{saga.id}/steps/e/skip/", REASON, format="json")

    assert response.status_code == 202
    assert response.json()["steps"][4]["status"] == "skipped"


def test_skip_a_step_that_did_not_fail_is_refused(operator):
    saga = stuck_after_pivot()

    assert operator.post(f"/api/sagas/{saga.id}/steps/d/skip/", REASON, format="json").status_code == 409


def test_mark_a_compensation_done(operator):
    saga = stuck_in_compensation()

    response = operator.post(f"/api/sagas/{saga.id}/steps/b/compensation-done/", REASON, format="json")

    assert response.status_code == 202
    assert response.json()["steps"][1]["status"] == "compensated"
