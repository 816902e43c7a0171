"""POST/GET /api/sagas/, GET /api/sagas/{id}/ (mirror or database), GET /api/sagas/{id}/events/."""

import uuid

import pytest

from sagaops import mirror
from sagaops.api.selectors import document_key
from sagaops.api.services import token_revoke
from sagaops.models import Saga, SagaEvent
from sagaops.redis import get_redis
from tests.api.conftest import make_saga

pytestmark = pytest.mark.django_db

START = {"type": "test.flow", "payload": {"n": 1}, "correlation_id": "c-1"}


def test_start_creates_a_saga(service):
    response = service.post("/api/sagas/", START, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["type"], body["status"], body["correlation_id"]) == ("test.flow", "pending", "c-1")
    assert [s["name"] for s in body["steps"]] == ["a", "b", "c", "d", "e"]
    assert body["context"] == {"payload": {"n": 1}, "results": {}}
    assert Saga.objects.filter(pk=body["id"]).exists()


def test_start_with_the_same_key_returns_the_same_saga(service):
    first = service.post("/api/sagas/", START, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = service.post("/api/sagas/", START, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Saga.objects.count() == 1


def test_start_with_the_same_key_and_another_body_is_a_conflict(service):
    service.post("/api/sagas/", START, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    response = service.post("/api/sagas/", {**START, "payload": {"n": 2}}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == 409
    assert "k1" in response.json()["error"]


def test_start_of_an_unknown_type_names_it(service):
    response = service.post("/api/sagas/", {**START, "type": "no.such"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"error": "unknown saga type: no.such", "field": "type"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "test.flow"}, "payload"),
        ({"payload": {}}, "type"),
        ({"type": "test.flow", "payload": [1, 2]}, "payload"),
        ({"type": ["test.flow"], "payload": {}}, "type"),
    ],
)
def test_start_with_a_missing_or_mistyped_field_names_it(service, body, field):
    response = service.post("/api/sagas/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_start_with_bad_json_is_400_json(service):
    response = service.post("/api/sagas/", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]


def test_start_with_a_body_that_is_not_an_object_is_400(service):
    response = service.post("/api/sagas/", data="[1]", content_type="application/json")

    assert response.status_code == 400
    assert "must be a JSON object" in response.json()["error"]


def test_start_with_a_form_body_is_415(service):
    response = service.post("/api/sagas/", data="type=test.flow", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert "error" in response.json()


def test_a_too_large_body_is_413(service, settings):
    settings.SAGAOPS_API_MAX_BODY_BYTES = 1000
    response = service.post("/api/sagas/", {**START, "payload": {"blob": "x" * 2000}}, format="json")

    assert response.status_code == 413
    assert "limit is 1000" in response.json()["error"]


def test_start_without_a_token_is_401(anonymous):
    response = anonymous.post("/api/sagas/", START, format="json")

    assert response.status_code == 401
    assert response.json() == {"error": "Authentication credentials were not provided."}


def test_start_with_a_revoked_token_is_401(service):
    token_revoke(user=service.user)
    response = service.post("/api/sagas/", START, format="json")

    assert response.status_code == 401


def test_a_service_may_not_start_a_type_it_is_not_allowed(limited_service):
    response = limited_service.post("/api/sagas/", START, format="json")

    assert response.status_code == 403
    assert response.json() == {"error": "service warehouse may not start test.flow sagas"}


def test_a_service_starts_a_type_it_is_allowed(limited_service):
    response = limited_service.post("/api/sagas/", {"type": "test.async", "payload": {}}, format="json")

    assert response.status_code == 201


def test_detail_is_the_same_from_the_mirror_and_the_database(service):
    saga = make_saga(
        started_by=service.user,
        steps={"a": "succeeded", "b": "failed"},
        correlation_id="c-9",
        attention_reason="b broke",
    )
    mirror.publish(saga)

    from_db = service.get(f"/api/sagas/{saga.id}/")
    from_mirror = service.get(f"/api/sagas/{saga.id}/")

    assert (from_db["X-Sagaops-Source"], from_mirror["X-Sagaops-Source"]) == ("database", "mirror")
    assert from_db.json() == from_mirror.json()
    body = from_db.json()
    assert (body["status"], body["version"], body["attention_reason"]) == ("stuck", 5, "b broke")
    assert body["steps"][1] == {
        "name": "b",
        "index": 1,
        "status": "failed",
        "attempts": 0,
        "compensation_attempts": 0,
        "last_error": "",
        "group": "",
        "branch": "",
    }
    assert (body["parent"], body["parent_step"], body["children"]) == (None, "", [])


def test_detail_is_read_again_from_the_database_when_the_mirror_moved_on(service):
    saga = make_saga(started_by=service.user)
    mirror.publish(saga)
    service.get(f"/api/sagas/{saga.id}/")
    Saga.objects.filter(pk=saga.pk).update(version=6, status="resolved")
    saga.refresh_from_db()
    mirror.publish(saga)

    response = service.get(f"/api/sagas/{saga.id}/")

    assert response["X-Sagaops-Source"] == "database"
    assert (response.json()["status"], response.json()["version"]) == ("resolved", 6)


def test_detail_without_redis_document_or_mirror_reads_the_database(service):
    saga = make_saga(started_by=service.user)
    get_redis().delete(document_key(saga.id))

    response = service.get(f"/api/sagas/{saga.id}/")

    assert response.status_code == 200
    assert response["X-Sagaops-Source"] == "database"


@pytest.mark.parametrize("path", [f"/api/sagas/{uuid.uuid4()}/", "/api/sagas/not-a-uuid/", "/api/nothing/"])
def test_an_unknown_saga_or_path_is_a_json_404(service, path):
    response = service.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_list_is_newest_first_and_filters(service):
    old = make_saga(started_by=service.user, status="completed", correlation_id="x")
    stuck = make_saga(started_by=service.user, status="stuck", correlation_id="y")

    everything = service.get("/api/sagas/").json()["results"]
    by_status = service.get("/api/sagas/?status=completed").json()["results"]
    by_correlation = service.get("/api/sagas/?correlation_id=y").json()["results"]
    by_stuck = service.get("/api/sagas/?stuck=true").json()["results"]
    by_type = service.get("/api/sagas/?type=test.async").json()["results"]

    assert [s["id"] for s in everything] == [str(stuck.id), str(old.id)]
    assert [s["id"] for s in by_status] == [str(old.id)]
    assert [s["id"] for s in by_correlation] == [str(stuck.id)]
    assert [s["id"] for s in by_stuck] == [str(stuck.id)]
    assert by_type == []


def test_list_includes_a_running_saga_without_progress_as_stuck(service, settings):
    settings.SAGAOPS_STUCK_AFTER = 0
    running = make_saga(started_by=service.user, status="running")

    response = service.get("/api/sagas/?stuck=true")

    assert [s["id"] for s in response.json()["results"]] == [str(running.id)]


def test_list_pages_with_a_cursor(service):
    for _ in range(3):
        make_saga(started_by=service.user)

    first = service.get("/api/sagas/?limit=2").json()
    second = service.get(first["next"]).json()

    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert second["next"] is None


def test_list_with_a_bad_filter_names_it(service):
    response = service.get("/api/sagas/?status=sleeping")

    assert response.status_code == 400
    assert "status" in response.json()


def test_events_are_the_timeline(service):
    saga = make_saga(started_by=service.user)
    SagaEvent.objects.create(saga=saga, kind="saga_started", version=1)
    SagaEvent.objects.create(saga=saga, kind="saga_stuck", step="e", version=5, detail={"reason": "r"})

    response = service.get(f"/api/sagas/{saga.id}/events/")

    assert response.status_code == 200
    events = response.json()["results"]
    assert [(e["kind"], e["step"], e["version"]) for e in events] == [("saga_started", "", 1), ("saga_stuck", "e", 5)]


def test_events_of_an_unknown_saga_is_404(service):
    assert service.get(f"/api/sagas/{uuid.uuid4()}/events/").status_code == 404


def test_too_many_requests_for_one_token_is_429(service, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min"})

    statuses = [service.get("/api/sagas/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert "throttled" in service.get("/api/sagas/").json()["error"]


def test_an_unexpected_error_is_a_json_500(service, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("sagaops.api.sagas.saga_filter", broken)

    response = service.get("/api/sagas/")

    assert response.status_code == 500
    assert response.json() == {"error": "internal error; it was logged"}
