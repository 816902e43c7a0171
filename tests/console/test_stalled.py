"""The "No progress" section lists sagas that should have moved and did not, not those waiting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sagaops.console.selectors import stalled_q
from sagaops.models import Saga

pytestmark = pytest.mark.django_db


def saga(*, updated_ago: timedelta, wake_in: timedelta | None) -> Saga:
    now = timezone.now()
    made = Saga.objects.create(type="test.async", status="running", context={"payload": {}})
    wake_at = now + wake_in if wake_in is not None else None
    Saga.objects.filter(pk=made.pk).update(updated_at=now - updated_ago, wake_at=wake_at)
    return made


def test_a_saga_waiting_for_its_callback_is_not_stalled():
    waiting = saga(updated_ago=timedelta(hours=2), wake_in=timedelta(hours=20))
    assert not Saga.objects.filter(stalled_q(), pk=waiting.pk).exists()


def test_a_saga_whose_timer_is_long_overdue_is_stalled():
    lost = saga(updated_ago=timedelta(hours=2), wake_in=-timedelta(minutes=30))
    assert Saga.objects.filter(stalled_q(), pk=lost.pk).exists()


def test_a_saga_without_a_timer_is_stalled():
    lost = saga(updated_ago=timedelta(hours=2), wake_in=None)
    assert Saga.objects.filter(stalled_q(), pk=lost.pk).exists()
