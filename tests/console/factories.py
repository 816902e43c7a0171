"""Sagas in the states the console shows, written straight to the database (no worker needed)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sagaops.models import Saga, SagaEvent, SagaStep

STEPS = ["a", "b", "c", "d", "e"]
TRACEBACK = (
    'Traceback (most recent call last):\n  File "tests/sagas.py", line 40, in _behave\ntests.sagas.TransientError: {}'
)


def make_saga(kind: str = "forward", *, payload: dict | None = None, ago: timedelta | None = None, **fields) -> Saga:
    """kind: forward (stuck after the pivot, step e failed), compensation (b's compensation failed),
    stalled (running, no progress), completed."""
    statuses, saga_fields = _shape(kind)
    saga = Saga.objects.create(
        type="test.flow",
        context={"payload": payload if payload is not None else {"order_id": 4242, "fail": {"e": "always"}}},
        version=7,
        deadline=timezone.now() + timedelta(minutes=10),
        **{**saga_fields, **fields},
    )
    for index, (name, status) in enumerate(zip(STEPS, statuses, strict=True)):
        SagaStep.objects.create(saga=saga, index=index, name=name, **_step_fields(kind, name, status))
    SagaEvent.objects.create(saga=saga, kind="saga_started", version=1)
    if kind in ("forward", "compensation"):
        SagaEvent.objects.create(saga=saga, kind="saga_stuck", step="e", detail={"reason": saga.attention_reason})
    if ago is not None:
        Saga.objects.filter(pk=saga.pk).update(updated_at=timezone.now() - ago, created_at=timezone.now() - ago)
        saga.refresh_from_db()
    return saga


def _shape(kind: str):
    if kind == "forward":
        return ["succeeded"] * 4 + ["failed"], {
            "status": "stuck",
            "current_step": 4,
            "last_error": "e failed on attempt 3",
            "attention_reason": "step e failed after 3 attempt(s) past the pivot: e failed on attempt 3",
        }
    if kind == "compensation":
        return ["succeeded", "compensation_failed", "failed", "pending", "pending"], {
            "status": "stuck",
            "current_step": 1,
            "last_error": "b failed on attempt 2",
            "attention_reason": "compensation of step b failed after 2 attempt(s): b failed on attempt 2",
        }
    if kind == "stalled":
        return ["succeeded", "succeeded", "running", "pending", "pending"], {"status": "running", "current_step": 2}
    if kind == "completed":
        return ["succeeded"] * 5, {"status": "completed", "current_step": 4, "finished_at": timezone.now()}
    raise ValueError(kind)


def _step_fields(kind: str, name: str, status: str) -> dict:
    fields = {"status": status, "attempts": 1 if status != "pending" else 0}
    if status == "failed":
        error = f"{name} failed on attempt 3" if kind == "forward" else f"{name} refused"
        error_type = "tests.sagas.TransientError" if kind == "forward" else "tests.sagas.BusinessError"
        fields.update(attempts=3, last_error=error, last_error_type=error_type, last_traceback=TRACEBACK.format(error))
    if status == "compensation_failed":
        error = f"{name} failed on attempt 2"
        fields.update(
            compensation_attempts=2,
            last_error=error,
            last_error_type="tests.sagas.TransientError",
            last_traceback=TRACEBACK.format(error),
        )
    if status == "running":
        fields["lease_expires_at"] = timezone.now() - timedelta(minutes=50)
    return fields


def seed_stuck(n: int, kind: str = "forward", *, payload: dict | None = None, context=None) -> list:
    """`n` sagas shaped like make_saga(kind), written with two bulk inserts (thousands a second)."""
    statuses, saga_fields = _shape(kind)
    body = context if context is not None else {"payload": payload if payload is not None else {"order_id": 1}}
    deadline = timezone.now() + timedelta(minutes=10)
    sagas = Saga.objects.bulk_create(
        [Saga(type="test.flow", context=body, version=7, deadline=deadline, **saga_fields) for _ in range(n)],
        batch_size=1000,
    )
    steps = [
        SagaStep(saga=saga, index=index, name=name, **_step_fields(kind, name, status))
        for saga in sagas
        for index, (name, status) in enumerate(zip(STEPS, statuses, strict=True))
    ]
    SagaStep.objects.bulk_create(steps, batch_size=5000)
    return [saga.pk for saga in sagas]
