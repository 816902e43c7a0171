"""Operator repairs: retry forward, force compensation, retry compensation, skip a step,
mark a compensation done by hand, complete a step by hand with its result, edit a step's
result, resolve by hand.

`sagaops.rules.repairs` decides when each may run and what it changes; this module loads the
saga, asks, and writes the change under the fence (a stale `expected_version` or a concurrent
operator gets ConcurrentUpdate), with the operator's reason on the timeline and in Django's
admin log.
"""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from sagaops import rules
from sagaops.definitions import find_definition
from sagaops.exceptions import ActionRefused, ConcurrentUpdate
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.rules import Change, Refusal
from sagaops.services.transitions import apply_change
from sagaops.states import SagaStatus


def saga_retry(*, saga_id, user, reason: str, expected_version: int | None = None, payload: dict | None = None) -> Saga:
    """Run the saga forward again from its failed (or stalled) step, optionally with an edited payload."""
    saga, steps, definition, now = _load(saga_id, reason, expected_version)
    _refuse_if(saga, rules.can_retry(saga, definition, steps, now=now))
    return _act(saga, steps, user, reason, rules.retry_change(saga, definition, steps, now=now, payload=payload))


def saga_compensate(*, saga_id, user, reason: str, expected_version: int | None = None) -> Saga:
    """Turn the saga back: compensate every step that took (or may have taken) effect."""
    saga, steps, definition, now = _load(saga_id, reason, expected_version)
    _refuse_if(saga, rules.can_compensate(saga, definition, steps, now=now))
    hook = definition.on_force_compensate if definition is not None else None
    with transaction.atomic():
        _act(saga, steps, user, reason, rules.compensate_change(saga, steps, now=now))
        if hook is not None:
            hook(saga=saga, user=user, reason=reason.strip())  # a choreographed saga: ask its services
    return saga


def saga_retry_compensation(*, saga_id, user, reason: str, expected_version: int | None = None) -> Saga:
    saga, steps, definition, now = _load(saga_id, reason, expected_version)
    _refuse_if(saga, rules.can_retry_compensation(saga, definition, steps, now=now))
    return _act(saga, steps, user, reason, rules.retry_compensation_change(saga, definition, steps, now=now))


def step_skip(*, saga_id, step_name: str, user, reason: str, expected_version: int | None = None) -> Saga:
    """Skip a failed forward step (the operator did its work by hand) and go on with the next."""
    saga, steps, _, now = _load(saga_id, reason, expected_version)
    _refuse_if(saga, rules.can_skip(saga, steps, step_name, now=now))
    return _act(saga, steps, user, reason, rules.skip_change(saga, steps, step_name, now=now))


def compensation_mark_done(*, saga_id, step_name: str, user, reason: str, expected_version: int | None = None) -> Saga:
    """The operator undid a step by hand: record its compensation as done and carry on compensating."""
    saga, steps, _, now = _load(saga_id, reason, expected_version)
    _refuse_if(saga, rules.can_mark_done(saga, steps, step_name, now=now))
    return _act(saga, steps, user, reason, rules.mark_done_change(saga, steps, step_name, now=now))


def step_complete_by_hand(
    *, saga_id, step_name: str, result, user, reason: str, expected_version: int | None = None
) -> Saga:
    """The operator did the step's work by hand: record its result; the saga goes on with it."""
    saga, steps, _, now = _load(saga_id, reason, expected_version)
    _refuse_if(saga, rules.can_complete_by_hand(saga, steps, step_name, now=now))
    return _act(saga, steps, user, reason, rules.complete_by_hand_change(saga, steps, step_name, result, now=now))


def step_result_edit(
    *, saga_id, step_name: str, result, user, reason: str, expected_version: int | None = None
) -> Saga:
    """Correct a succeeded step's recorded result before the next step reads it (the diff is on the timeline)."""
    saga, steps, _, now = _load(saga_id, reason, expected_version)
    _refuse_if(saga, rules.can_edit_result(saga, steps, step_name, now=now))
    return _act(saga, steps, user, reason, rules.edit_result_change(saga, steps, step_name, result))


def saga_resolve(*, saga_id, user, reason: str, expected_version: int | None = None) -> Saga:
    """Close an unfinished saga by hand: the operator has settled it outside sagaops."""
    saga, steps, _, now = _load(saga_id, reason, expected_version)
    _refuse_if(saga, rules.can_resolve(saga, steps, now=now))
    return _act(saga, steps, user, reason, rules.resolve_change(saga, now=now))


def branch_retry(*, saga_id, step_name: str, user, reason: str, expected_version: int | None = None) -> Saga:
    """Run one failed branch of a Parallel group again (its siblings keep their outcomes)."""
    saga, steps, definition, now = _load(saga_id, reason, expected_version)
    step = next((s for s in steps if s.name == step_name), None)
    if step is None:
        raise ActionRefused(f"saga {saga.pk} has no step {step_name!r}", saga.status)
    _refuse_if(saga, rules.can_retry_branch(saga, definition, step))
    return _act(saga, steps, user, reason, rules.retry_branch_change(saga, step, now=now))


def _load(saga_id, reason: str, expected_version: int | None):
    if not (reason or "").strip():
        raise ActionRefused("a reason is required")
    saga = Saga.objects.get(pk=saga_id)
    if expected_version is not None and saga.version != expected_version:
        raise ConcurrentUpdate(
            f"the saga changed since you looked (version {expected_version}, now {saga.version}): "
            f"it is {saga.status}; reload and decide again",
            saga.status,
        )
    steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
    return saga, steps, find_definition(saga.type, saga.definition_version), timezone.now()


def _refuse_if(saga: Saga, refusal: Refusal | None) -> None:
    if refusal is not None:
        raise ActionRefused(refusal.message, saga.status)


def _act(saga: Saga, steps: list[SagaStep], user, reason: str, change: Change) -> Saga:
    for event in change.events:  # the rule's operator event, signed by the operator
        event.actor_type, event.actor = SagaEvent.Actor.OPERATOR, user.get_username()
        event.reason, event.user_id = reason.strip(), user.pk
    kind = change.events[0].kind
    with transaction.atomic():
        wakes = change.saga["status"] in (SagaStatus.RUNNING, SagaStatus.COMPENSATING)
        apply_change(saga, steps, change, enqueue_advance=wakes)
        LogEntry.objects.create(
            user_id=user.pk,
            content_type=ContentType.objects.get_for_model(Saga),
            object_id=str(saga.pk),
            object_repr=str(saga)[:200],
            action_flag=CHANGE,
            change_message=f"{kind.removeprefix('operator_').replace('_', ' ')}: {reason.strip()}",
        )
    return saga
