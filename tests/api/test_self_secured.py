"""The engine's API secures itself: a host whose REST_FRAMEWORK is DRF's defaults (anonymous
allowed, every parser) still gets authentication, permissions, the limited JSON parser and the
JSON error body on every sagaops endpoint."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def drf_defaults():
    with override_settings(REST_FRAMEWORK={}):
        yield


def test_an_anonymous_request_is_refused_under_drf_defaults(drf_defaults):
    answer = APIClient().get("/api/sagas/")
    assert answer.status_code in (401, 403)
    assert "error" in answer.json()


def test_a_form_body_is_refused_under_drf_defaults(drf_defaults, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = APIClient()
    client.force_authenticate(user)
    answer = client.post("/api/sagas/", "type=x", content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 415
    assert "error" in answer.json()


def test_a_domain_api_is_secured_the_same_way(drf_defaults):
    assert APIClient().get("/api/orders/1/").status_code in (401, 403)
