"""The advance's load: the same saga and steps the ORM builds, in one statement."""

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sagaops.models import Hold, Saga, SagaStep
from sagaops.services import saga_start
from sagaops.services.saga_load import saga_with_steps

pytestmark = pytest.mark.django_db


def values(instance: Model) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_saga_and_its_steps_are_what_the_orm_reads():
    saga, _ = saga_start(saga_type="test.flow", payload={"order": {"id": 7, "lines": ["a", "b"]}})
    SagaStep.objects.filter(saga=saga, index=0).update(
        status="succeeded", result={"charge": "ch_1"}, finished_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as queries:
        loaded, steps, any_hold = saga_with_steps(saga.pk)
    assert len(queries) == 1
    assert values(loaded) == values(Saga.objects.get(pk=saga.pk))
    assert loaded.context["payload"]["order"] == {"id": 7, "lines": ["a", "b"]}
    expected = list(SagaStep.objects.filter(saga=saga).order_by("index"))
    assert [values(step) for step in steps] == [values(step) for step in expected]
    assert steps[0].result == {"charge": "ch_1"} and steps[0].finished_at.tzinfo is not None
    assert all(step.saga is loaded for step in steps)  # no query for the step's saga
    assert not loaded._state.adding and loaded._state.db == "default"
    assert any_hold is False


def test_a_hold_in_force_rides_along_and_a_released_one_does_not():
    saga, _ = saga_start(saga_type="test.flow", payload={})
    hold = Hold.objects.create(saga_type="test.flow", step="a", reason="provider down")
    assert saga_with_steps(saga.pk)[2] is True
    Hold.objects.filter(pk=hold.pk).update(status=Hold.Status.RELEASED)
    assert saga_with_steps(saga.pk)[2] is False


def test_an_unknown_saga_is_none():
    assert saga_with_steps("00000000-0000-0000-0000-000000000000") == (None, [], False)
