"""POST /api/reports/ and GET /api/health/."""

import pytest

from sagaops.api import health
from sagaops.models import FailureReport

pytestmark = pytest.mark.django_db

REPORT = {"service": "shop", "code": "PAYMENT_TIMEOUT", "correlation_id": "order:7", "detail": {"try": 3}}


def test_a_failure_report_is_stored(service):
    response = service.post("/api/reports/", REPORT, format="json")

    assert response.status_code == 201
    report = FailureReport.objects.get(pk=response.json()["id"])
    assert (report.service, report.code, report.correlation_id, report.detail) == (
        "shop",
        "PAYMENT_TIMEOUT",
        "order:7",
        {"try": 3},
    )
    assert report.reported_by.username == "service:shop"


def test_a_service_may_not_report_for_another_service(service):
    response = service.post("/api/reports/", {**REPORT, "service": "payments"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"error": "service shop may not report for service payments"}


def test_an_operator_may_report_for_any_service(operator):
    assert operator.post("/api/reports/", {**REPORT, "service": "payments"}, format="json").status_code == 201


@pytest.mark.parametrize(("body", "field"), [({"service": "shop"}, "code"), ({**REPORT, "detail": "x"}, "detail")])
def test_a_report_with_a_missing_or_mistyped_field_names_it(service, body, field):
    response = service.post("/api/reports/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_a_report_without_a_token_is_401(anonymous):
    assert anonymous.post("/api/reports/", REPORT, format="json").status_code == 401


def test_health_is_ok_when_everything_answers(anonymous, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "workers", lambda: {"ok": True, "workers": ["w@h"]})

    response = anonymous.get("/api/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "postgresql": True,
        "redis": True,
        "broker": True,
        "workers": True,
    }


def test_health_is_503_naming_what_is_down(anonymous, monkeypatch):
    def redis_down():
        raise ConnectionError("Redis is not reachable")

    monkeypatch.setitem(health.CHECKS, "redis", redis_down)
    monkeypatch.setitem(health.CHECKS, "workers", lambda: {"ok": True, "workers": ["w@h"]})

    response = anonymous.get("/api/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == {"ok": False, "error": "Redis is not reachable"}


def test_health_without_workers_is_503(anonymous, monkeypatch):
    monkeypatch.setattr("project.celery.app.control.ping", lambda timeout: [])

    response = anonymous.get("/api/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {"ok": False, "workers": [], "error": "no worker answered"}
