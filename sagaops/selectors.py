"""Read queries. Status reads use the Redis mirror and fall back to the database."""

from __future__ import annotations

import logging

import redis

from sagaops import mirror
from sagaops.models import Saga, SagaStep

log = logging.getLogger(__name__)


def saga_status(*, saga_id) -> dict[str, str] | None:
    """{status, current_step, type, version, updated_at, ...} from the mirror, else the database."""
    try:
        cached = mirror.read(saga_id)
    except redis.RedisError:
        log.warning("Redis unavailable; reading saga %s from the database", saga_id)
        cached = {}
    if cached:
        return cached
    saga = Saga.objects.filter(pk=saga_id).first()
    return mirror.mirror_fields(saga) if saga else None


def saga_results(*, steps: list[SagaStep]) -> dict:
    return {s.name: s.result for s in steps if s.result is not None}


def saga_context(*, saga: Saga, steps: list[SagaStep]) -> dict:
    """The saga's context as services see it: the start payload and each step's result."""
    return {"payload": saga.context.get("payload", {}), "results": saga_results(steps=steps)}
