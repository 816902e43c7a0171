"""GET /api/sagas/ takes the console's search and filters: q, step, error_type and a time range."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sagaops.models import Saga, SagaStep
from tests.api.conftest import make_saga

pytestmark = pytest.mark.django_db


def ids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_search_by_the_short_id(operator):
    saga, other = make_saga(), make_saga()
    found = ids(operator.get("/api/sagas/", {"q": str(saga.pk)[:8]}))
    assert str(saga.pk) in found and str(other.pk) not in found


def test_search_by_a_business_key_the_type_declares(operator):
    saga = make_saga()
    Saga.objects.filter(pk=saga.pk).update(type="order.checkout", context={"payload": {"customer": "ann"}})
    make_saga()
    assert ids(operator.get("/api/sagas/", {"q": "ann"})) == {str(saga.pk)}


def test_filter_by_the_error_type_of_a_failed_step(operator):
    saga = make_saga(steps={"a": "succeeded", "b": "failed"})
    SagaStep.objects.filter(saga=saga, name="b").update(last_error_type="tests.sagas.BusinessError")
    make_saga(steps={"a": "failed"})
    found = ids(operator.get("/api/sagas/", {"error_type": "tests.sagas.BusinessError", "step": "b"}))
    assert found == {str(saga.pk)}


def test_filter_by_the_current_step(operator):
    at_c = make_saga(current_step=2)
    make_saga(current_step=0)
    assert ids(operator.get("/api/sagas/", {"step": "c"})) == {str(at_c.pk)}


def test_filter_by_when_it_started(operator):
    old, new = make_saga(), make_saga()
    Saga.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(operator.get("/api/sagas/", {"created_after": since})) == {str(new.pk)}


def test_a_service_searches_only_its_own_sagas(service):
    saga = make_saga()
    assert ids(service.get("/api/sagas/", {"q": str(saga.pk)[:8]})) == set()


def test_a_bad_date_is_a_400_naming_the_field(operator):
    response = operator.get("/api/sagas/", {"created_after": "yesterday"})
    assert response.status_code == 400 and "created_after" in str(response.json())


def test_search_by_a_business_key_a_step_result_brought(operator):
    saga = make_saga()
    Saga.objects.filter(pk=saga.pk).update(type="order.checkout", search={"customer": "bea"})
    assert ids(operator.get("/api/sagas/", {"q": "bea"})) == {str(saga.pk)}
