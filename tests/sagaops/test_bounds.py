"""What a transition writes is bounded: tracebacks keep their tail, event details a preview."""

import pytest
from django.test import override_settings

from sagaops.models import SagaEvent
from sagaops.services.transitions import Event, transition
from tests.sagaops.factories import saga_row

pytestmark = pytest.mark.django_db


@override_settings(SAGAOPS_TRACEBACK_MAX=100, SAGAOPS_EVENT_DETAIL_MAX=200)
def test_a_transition_caps_the_traceback_and_the_event_detail():
    # given
    saga = saga_row("running", wake_in=30)
    step = saga.steps.get()
    step.status = "running"
    huge = "frame\n" * 5000 + "ValueError: the end"
    # when
    transition(
        saga,
        step=step,
        step_changes={"last_traceback": huge},
        events=[Event("step_failed", detail={"body": "x" * 10_000}), Event("small", detail={"a": 1})],
    )
    # then
    step.refresh_from_db()
    assert len(step.last_traceback) == 100 and step.last_traceback.endswith("ValueError: the end")
    big, small = SagaEvent.objects.filter(kind__in=["step_failed", "small"]).order_by("id")
    assert big.detail["truncated"] is True and big.detail["bytes"] > 10_000 and len(big.detail["preview"]) == 100
    assert small.detail == {"a": 1}
