"""A bounded schemathesis run over /api/schema/: no 5xx, and every answer as documented."""

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sagaops.api import health
from sagaops.api.services import service_account_create, token_issue

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema():
    # As Django's test client does: keep the test's connection (and its transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def admin_headers(db):
    user = User.objects.create_superuser("root", password="x")
    return {"Authorization": f"Token {token_issue(user=user)}"}


@pytest.fixture
def service_headers(db):
    """A service meets the ownership checks (404 for sagas it did not start) on every path."""
    _, token = service_account_create(name="shop")
    return {"Authorization": f"Token {token}"}


EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.mark.django_db
@schema.parametrize()
@EXAMPLES
def test_the_api_keeps_its_schema(case, admin_headers, catalog, monkeypatch):
    # Health answers 503 by design while no worker runs (its own tests cover that).
    monkeypatch.setitem(health.CHECKS, "workers", lambda: {"ok": True, "workers": ["w@h"]})
    case.call_and_validate(headers=admin_headers, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_keeps_its_schema_for_a_service(case, service_headers, catalog, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "workers", lambda: {"ok": True, "workers": ["w@h"]})
    case.call_and_validate(headers=service_headers, checks=CHECKS)


def test_the_schema_and_the_docs_are_served(client):
    schema_response = client.get("/api/schema/?format=json")
    docs = client.get("/api/docs/")

    assert schema_response.status_code == 200
    assert "/api/sagas/{saga_id}/retry/" in schema_response.json()["paths"]
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
