"""Async step callbacks: complete / fail, once; refused when the step is not waiting."""

import uuid

import pytest

from sagaops.models import SagaEvent
from tests.api.conftest import make_saga
from tests.sagas import async_flow

pytestmark = pytest.mark.django_db


def waiting_saga(started_by=None):
    return make_saga(
        status="running", steps={"a": "succeeded", "wait": "waiting"}, definition=async_flow, started_by=started_by
    )


def test_complete_a_waiting_step(limited_service):
    saga = waiting_saga()

    response = limited_service.post(f"/api/sagas/{saga.id}/steps/wait/complete/", {"result": {"ok": 1}}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["outcome"] == "completed"
    assert body["saga"]["steps"][1]["status"] == "succeeded"
    assert body["saga"]["context"]["results"] == {"wait": {"ok": 1}}
    event = SagaEvent.objects.get(saga=saga, kind="callback_received")
    assert (event.actor_type, event.actor) == ("service", "service:warehouse")


def test_a_repeated_identical_complete_has_no_second_effect(limited_service):
    saga = waiting_saga()
    url = f"/api/sagas/{saga.id}/steps/wait/complete/"

    limited_service.post(url, {"result": {"ok": 1}}, format="json")
    again = limited_service.post(url, {"result": {"ok": 1}}, format="json")

    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert SagaEvent.objects.filter(saga=saga, kind="callback_received").count() == 1


def test_a_different_complete_after_the_first_is_refused(limited_service):
    saga = waiting_saga()
    url = f"/api/sagas/{saga.id}/steps/wait/complete/"

    limited_service.post(url, {"result": {"ok": 1}}, format="json")
    again = limited_service.post(url, {"result": {"ok": 2}}, format="json")

    assert again.status_code == 409
    assert again.json()["status"] == "succeeded"


def test_complete_of_a_step_that_is_not_waiting_is_409(service):
    saga = make_saga(status="running", steps={"a": "succeeded"}, definition=async_flow, started_by=service.user)

    response = service.post(f"/api/sagas/{saga.id}/steps/wait/complete/", {"result": None}, format="json")

    assert response.status_code == 409
    assert response.json() == {"error": "step wait is pending, not waiting for a callback", "status": "pending"}


def test_complete_of_a_local_step_is_409(service):
    saga = waiting_saga(started_by=service.user)

    assert service.post(f"/api/sagas/{saga.id}/steps/a/complete/", {"result": 1}, format="json").status_code == 409


def test_complete_without_a_result_names_it(service):
    saga = waiting_saga(started_by=service.user)

    response = service.post(f"/api/sagas/{saga.id}/steps/wait/complete/", {}, format="json")

    assert response.status_code == 400
    assert "result" in response.json()


def test_complete_of_an_unknown_step_or_saga_is_404(service):
    saga = waiting_saga(started_by=service.user)

    assert service.post(f"/api/sagas/{saga.id}/steps/nope/complete/", {"result": 1}, format="json").status_code == 404
    assert (
        service.post(f"/api/sagas/{uuid.uuid4()}/steps/wait/complete/", {"result": 1}, format="json").status_code == 404
    )


def test_a_service_granted_one_step_may_not_call_back_another_of_a_saga_it_did_not_start(limited_service):
    saga = waiting_saga()

    response = limited_service.post(f"/api/sagas/{saga.id}/steps/done/complete/", {"result": 1}, format="json")

    assert response.status_code == 404
    assert response.json() == {"error": f"no saga {saga.id}"}


def test_a_callback_without_a_token_is_401(anonymous):
    saga = waiting_saga()

    assert anonymous.post(f"/api/sagas/{saga.id}/steps/wait/fail/", {"error": "x"}, format="json").status_code == 401


def test_fail_a_waiting_step_non_retryable_turns_the_saga_back(limited_service):
    saga = waiting_saga()

    response = limited_service.post(
        f"/api/sagas/{saga.id}/steps/wait/fail/", {"error": "no stock", "retryable": False}, format="json"
    )

    assert (response.status_code, response.json()["outcome"]) == (202, "failed")
    assert response.json()["saga"]["status"] == "compensating"
    assert response.json()["saga"]["steps"][1]["last_error"] == "no stock"


def test_a_repeated_fail_is_a_duplicate(limited_service):
    saga = waiting_saga()
    url = f"/api/sagas/{saga.id}/steps/wait/fail/"

    limited_service.post(url, {"error": "no stock", "retryable": False}, format="json")
    again = limited_service.post(url, {"error": "no stock", "retryable": False}, format="json")

    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")


@pytest.mark.parametrize(("body", "field"), [({}, "error"), ({"error": "x", "retryable": "maybe"}, "retryable")])
def test_fail_with_a_missing_or_mistyped_field_names_it(service, body, field):
    saga = waiting_saga(started_by=service.user)

    response = service.post(f"/api/sagas/{saga.id}/steps/wait/fail/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
