"""Starting a saga."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sagaops.conf import conf
from sagaops.definitions import get_definition
from sagaops.exceptions import IdempotencyConflict
from sagaops.models import Saga, SagaStep
from sagaops.observability.tracing import trace_carrier
from sagaops.rules import Event, EventKind
from sagaops.services.saga_insert import saga_insert
from sagaops.services.transitions import after_commit, event_row
from sagaops.states import SagaStatus


def request_hash(saga_type: str, payload: dict) -> str:
    body = json.dumps({"type": saga_type, "payload": payload}, sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(body.encode()).hexdigest()


def saga_start(
    *,
    saga_type: str,
    payload: dict,
    idempotency_key: str | None = None,
    correlation_id: str = "",
    started_by=None,
) -> tuple[Saga, bool]:
    """Create a saga and its steps; its first advance is enqueued after commit.

    `started_by` is the principal (a user) the saga belongs to: its callbacks and reads are theirs.
    Returns (saga, created). Replaying an idempotency key returns the saga it started, or raises
    IdempotencyConflict when the request differs.
    """
    definition = get_definition(saga_type)
    digest = request_hash(saga_type, payload)
    if idempotency_key:
        existing = _replay(idempotency_key, digest)
        if existing is not None:
            return existing, False
    try:
        # Outside a transaction the start's one statement commits by itself (no BEGIN and COMMIT
        # round trips); inside the caller's, a savepoint lets a lost race below be caught without
        # breaking that transaction.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            saga = _create(definition, payload, idempotency_key, correlation_id, digest, started_by)
    except IntegrityError:
        # Two requests with the same new key raced: the other one created it.
        existing = _replay(idempotency_key, digest) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    return saga, True


def _replay(key: str, digest: str) -> Saga | None:
    saga = Saga.objects.filter(idempotency_key=key).first()
    if saga is not None and saga.request_hash != digest:
        raise IdempotencyConflict(key)
    return saga


def _context(payload: dict) -> dict:
    """The start payload, and the caller's trace context when there is one (later runs continue it)."""
    context = {"payload": json.loads(json.dumps(payload, cls=DjangoJSONEncoder))}
    carrier = trace_carrier()
    if carrier:
        context["trace"] = carrier
    return context


def _create(definition, payload: dict, idempotency_key, correlation_id: str, digest: str, started_by) -> Saga:
    now = timezone.now()
    saga = Saga(
        type=definition.name,
        definition_version=definition.version,
        status=SagaStatus.PENDING,
        context=_context(payload),
        idempotency_key=idempotency_key or None,
        request_hash=digest,
        correlation_id=correlation_id or "",
        started_by=started_by if getattr(started_by, "is_authenticated", False) else None,
        deadline=now + definition.timeout,
        # If the first advance task is lost, the timer sweep starts the saga anyway.
        wake_at=now + timedelta(seconds=conf.SAGAOPS_START_GRACE),
        version=1,
    )
    steps = [SagaStep(saga=saga, index=i, name=step.name) for i, step in enumerate(definition.steps)]
    event = Event(EventKind.SAGA_STARTED, detail={"definition_version": definition.version})
    saga_insert(saga, steps, [event_row(saga, event, saga.version)])  # one statement
    transaction.on_commit(lambda: after_commit(saga, [event], enqueue_advance=True))
    return saga
