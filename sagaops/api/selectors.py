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
from sagaops.api.serializers import SagaDetailOutput
from sagaops.definitions import find_definition
from sagaops.keys import document_key
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.redis import get_redis
from sagaops.search_keys import children_of, keys_contain
from sagaops.selectors import saga_context

log = logging.getLogger(__name__)

SNAPSHOT_RETRIES = 3
# The document is cached for the sagas being watched now; an hour bounds what Redis keeps.
DOCUMENT_TTL_SECONDS = 3600


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
        return sagas.filter(keys_contain(correlation_id=correlation_id)).order_by("-created_at").first()
    return None


def saga_document_from_db(*, saga_id) -> dict[str, Any]:
    """The saga and its steps at one version (re-read if a transition landed between the queries)."""
    for _ in range(SNAPSHOT_RETRIES):
        saga = Saga.objects.get(pk=saga_id)
        steps = list(SagaStep.objects.filter(saga_id=saga.pk).order_by("index"))
        if Saga.objects.filter(pk=saga.pk, version=saga.version).exists():
            break
    saga.step_rows = with_branches(saga, steps)
    saga.child_rows = list(
        Saga.objects.filter(children_of(saga.pk)).order_by("created_at").only("id", "type", "parent_step")
    )
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
