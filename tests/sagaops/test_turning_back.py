"""Turning back (deadline, force compensation) compensates every step that may have taken effect.

In-process and inside the test's transaction: no worker sees these sagas.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from sagaops.models import Saga
from sagaops.services import saga_advance, saga_compensate, saga_start
from tests.helpers import step_statuses
from tests.sagas import calls

pytestmark = pytest.mark.django_db


def saga_waiting_to_retry_b():
    """a succeeded; b (remote) failed with a transient error and waits for its retry."""
    saga, _ = saga_start(saga_type="test.flow", payload={"fail": {"b": "transient:9"}})
    saga_advance(saga_id=saga.id)
    saga.refresh_from_db()
    b = saga.steps.get(name="b")
    assert (b.status, b.outcome_unknown) == ("pending", True)
    return saga


def test_force_compensation_while_a_retry_is_pending_compensates_that_step():
    saga = saga_waiting_to_retry_b()
    operator = User.objects.create_user("oper")
    saga_compensate(saga_id=saga.id, user=operator, reason="customer cancelled")
    saga_advance(saga_id=saga.id)
    saga.refresh_from_db()
    assert saga.status == "compensated"
    assert calls(saga.id)[-2:] == ["comp:b:1", "comp:a:1"]
    assert step_statuses(saga)["b"] == "compensated"


def test_a_deadline_while_a_retry_is_pending_compensates_that_step():
    saga = saga_waiting_to_retry_b()
    Saga.objects.filter(pk=saga.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    saga_advance(saga_id=saga.id)
    saga.refresh_from_db()
    assert saga.status == "compensated"
    assert calls(saga.id)[-2:] == ["comp:b:1", "comp:a:1"]
