"""Read queries behind the API: filtered saga lists and the saga document, mirror first.

The saga document (`GET /api/sagas/{id}/`) is built from the database rows and cached in Redis
beside the mirror hash, stamped with the saga's version. Every change to a saga or its steps
bumps the version and republishes the mirror hash, so the cached document is served only while
its version is the mirror's: from Redis or from PostgreSQL, the answer is the same.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis
from django.db.models import QuerySet

from sagaops import mirror
from sagaops.console.filters import at_step_q, failed_with_q
from sagaops.console.search import search_q
from sagaops.console.selectors import stuck_q
from sagaops.definitions import find_definition
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.redis import get_redis
from sagaops.selectors import saga_context

log = logging.getLogger(__name__)

SNAPSHOT_RETRIES = 3
# The document is cached for the sagas being watched now; an hour bounds what Redis keeps.
DOCUMENT_TTL_SECONDS = 3600


def document_key(saga_id) -> str:
    return f"saga:{{{saga_id}}}:doc"


def saga_list(*, sagas: QuerySet[Saga], filters: dict[str, Any]) -> QuerySet[Saga]:
    """`sagas` is what the caller may read (permissions.readable_sagas), narrowed by the filters."""
    if filters.get("status"):
        sagas = sagas.filter(status=filters["status"])
    if filters.get("type"):
        sagas = sagas.filter(type=filters["type"])
    if filters.get("correlation_id"):
        sagas = sagas.filter(correlation_id=filters["correlation_id"])
    if filters.get("stuck"):
        sagas = sagas.filter(stuck_q())
    # The console's search and filters, the same queries (and indexes) behind both.
    if filters.get("q"):
        sagas = sagas.filter(search_q(filters["q"]))
    if filters.get("error_type"):
        sagas = sagas.filter(failed_with_q(filters["error_type"], step=filters.get("step")))
    elif filters.get("step"):
        sagas = sagas.filter(at_step_q(filters["step"]))
    if filters.get("created_after"):
        sagas = sagas.filter(created_at__gte=filters["created_after"])
    if filters.get("created_before"):
        sagas = sagas.filter(created_at__lt=filters["created_before"])
    return sagas


def saga_events(*, saga_id) -> QuerySet[SagaEvent]:
    return SagaEvent.objects.filter(saga_id=saga_id).select_related("user")


def report_saga(correlation_id: str, detail: dict) -> Saga | None:
    """The saga a failure report is about, found as the supervisor finds it (detail.saga_id, else
    the newest saga with the correlation id)."""
    try:
        saga_id = uuid.UUID(str(detail.get("saga_id")))
    except ValueError:
        saga_id = None
    sagas = Saga.objects.only("pk", "type", "started_by")
    if saga_id is not None:
        return sagas.filter(pk=saga_id).first()
    if correlation_id:
        return sagas.filter(correlation_id=correlation_id).order_by("-created_at").first()
    return None


def saga_document_from_db(*, saga_id) -> dict[str, Any]:
    """The saga and its steps at one version (re-read if a transition landed between the queries)."""
    from sagaops.api.serializers import SagaDetailOutput

    for _ in range(SNAPSHOT_RETRIES):
        saga = Saga.objects.get(pk=saga_id)
        steps = list(SagaStep.objects.filter(saga_id=saga.pk).order_by("index"))
        if Saga.objects.filter(pk=saga.pk, version=saga.version).exists():
            break
    saga.step_rows = with_branches(saga, steps)
    saga.child_rows = list(Saga.objects.filter(parent=saga).order_by("created_at").only("id", "type", "parent_step"))
    saga.api_context = saga_context(saga=saga, steps=steps)
    return json.loads(json.dumps(SagaDetailOutput(saga).data, default=str))


def with_branches(saga: Saga, steps: list[SagaStep]) -> list[SagaStep]:
    """The steps, each with the Parallel group and branch its definition puts it in."""
    definition = find_definition(saga.type, saga.definition_version)
    for step in steps:
        known = definition is not None and step.index < len(definition.steps)
        step.group = definition.steps[step.index].group if known else ""
        step.branch = definition.steps[step.index].branch if known else ""
    return steps


def saga_document(*, saga_id) -> tuple[dict[str, Any], str]:
    """(document, "mirror" | "database")."""
    try:
        client = get_redis()
        mirrored_version, cached = client.hget(mirror.saga_key(saga_id), "version"), client.get(document_key(saga_id))
    except redis.RedisError:
        log.warning("Redis unavailable; reading saga %s from the database", saga_id)
        return saga_document_from_db(saga_id=saga_id), "database"
    if cached and mirrored_version:
        document = json.loads(cached)
        if str(document.get("version")) == mirrored_version:
            return document, "mirror"
    document = saga_document_from_db(saga_id=saga_id)
    _cache(client, saga_id, document)
    return document, "database"


def _cache(client: redis.Redis, saga_id, document: dict) -> None:
    try:
        client.set(document_key(saga_id), json.dumps(document), ex=DOCUMENT_TTL_SECONDS)
    except redis.RedisError:
        log.warning("could not cache the document of saga %s", saga_id)
