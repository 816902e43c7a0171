"""Read queries. Status reads use the Redis mirror and fall back to the database."""

from __future__ import annotations

import logging
from datetime import datetime

import redis
from django.utils import timezone

from sagaops import mirror, rules
from sagaops.conf import conf
from sagaops.definitions import find_definition, get_definition, registered_types
from sagaops.models import Saga, SagaStep
from sagaops.states import ACTIVE_SAGA_STATUSES, FINISHED_SAGA_STATUSES, SagaStatus

log = logging.getLogger(__name__)


def saga_status(*, saga_id) -> dict[str, str] | None:
    """{status, current_step, type, version, updated_at, ...} from the mirror, else the database.

    A finished saga's mirror is final, and a fresh one (written within
    SAGAOPS_MIRROR_TRUST_SECONDS) is served as is. An older unfinished one may be a hash whose
    last write was lost: its version is checked against the database, which wins when newer
    (and the mirror is rewritten).
    """
    try:
        cached = mirror.read(saga_id)
    except redis.RedisError:
        log.warning("Redis unavailable; reading saga %s from the database", saga_id)
        cached = {}
    if cached and (cached.get("status") in FINISHED_SAGA_STATUSES or _fresh(cached)):
        return cached
    saga = Saga.objects.filter(pk=saga_id).defer("context").first()
    if saga is None:
        return None
    if cached and int(cached.get("version") or 0) >= saga.version:
        return cached
    if cached:
        log.warning("mirror of saga %s lagged the database (%s < %s)", saga_id, cached["version"], saga.version)
        mirror.publish(saga, finished=saga.status in FINISHED_SAGA_STATUSES)
    return mirror.mirror_fields(saga)


def _fresh(cached: dict[str, str]) -> bool:
    try:
        written = datetime.fromisoformat(cached.get("updated_at", ""))
    except ValueError:
        return False
    return (timezone.now() - written).total_seconds() < conf.SAGAOPS_MIRROR_TRUST_SECONDS


def saga_results(*, steps: list[SagaStep]) -> dict:
    return {s.name: s.result for s in steps if s.result is not None}


def saga_context(*, saga: Saga, steps: list[SagaStep]) -> dict:
    """The saga's context as services see it: the start payload and each step's result."""
    return {"payload": saga.context.get("payload", {}), "results": saga_results(steps=steps)}


def saga_problems(*, require_settled: bool = False) -> list[str]:
    """Sagas in a state the engine promises never to leave them in.

    A stuck saga must say why; an active orchestrated saga must have a timer (`wake_at`; the
    tracker's overdue check times choreographed ones); with require_settled, none may be active.
    """
    problems = [
        f"saga {saga_id} is stuck without a reason"
        for saga_id in Saga.objects.filter(status=SagaStatus.STUCK, attention_reason="").values_list("id", flat=True)
    ]
    active = Saga.objects.filter(status__in=ACTIVE_SAGA_STATUSES)
    if require_settled:
        problems += [f"saga {saga_id} is still {status}" for saga_id, status in active.values_list("id", "status")]
    untimed = active.filter(wake_at__isnull=True).exclude(type__in=_choreographed_types())
    problems += [f"saga {saga_id} is {status} with no timer" for saga_id, status in untimed.values_list("id", "status")]
    return problems


def _choreographed_types() -> list[str]:
    return [name for name in registered_types() if get_definition(name).choreographed]


def compensation_preview(*, saga: Saga) -> dict:
    """What forcing compensation would do now: allowed or why not, and each compensation in order
    with its input (`sagaops.rules.compensation_plan`)."""
    steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
    definition = find_definition(saga.type, saga.definition_version)
    refusal = rules.can_compensate(saga, definition, steps, now=timezone.now())
    plan = rules.compensation_plan(str(saga.pk), saga, definition, steps) if definition is not None else []
    return {
        "allowed": refusal is None,
        "refusal": refusal.message if refusal else "",
        "payload": saga.payload,
        "compensations": plan,
    }
