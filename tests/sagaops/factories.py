"""Saga rows in a given state and age, written straight to the database (no engine run)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.states import FINISHED_SAGA_STATUSES


def saga_row(status: str = "completed", *, age: timedelta = timedelta(0), wake_in: float | None = None, **fields):
    """A saga of test.flow with one step and two events, created (and finished) `age` ago."""
    now = timezone.now()
    wake_at = now + timedelta(seconds=wake_in) if wake_in is not None else None
    saga = Saga.objects.create(type="test.flow", status=status, version=3, wake_at=wake_at, **fields)
    when = now - age
    finished = when if status in FINISHED_SAGA_STATUSES else None
    Saga.objects.filter(pk=saga.pk).update(created_at=when, updated_at=when, finished_at=finished)
    SagaStep.objects.create(saga=saga, index=0, name="a", status="succeeded", result={"ok": 1})
    SagaEvent.objects.bulk_create([SagaEvent(saga=saga, kind="saga_started"), SagaEvent(saga=saga, kind="x")])
    saga.refresh_from_db()
    return saga
