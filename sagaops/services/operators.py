"""Operator repairs: retry forward, force compensation, retry compensation, skip a step,
mark a compensation done by hand, resolve by hand.

Each takes the operator and a reason, refuses with ActionRefused where the state forbids it,
is fenced (a stale `expected_version` or a concurrent operator gets ConcurrentUpdate), and is
written to the saga's timeline and to Django's admin log.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from sagaops.definitions import find_definition
from sagaops.exceptions import ActionRefused, ConcurrentUpdate
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.planner import ABANDON_STEP, pivot_passed, unsettled_step
from sagaops.services.transitions import Event, transition
from sagaops.states import COMPENSATION_STEP_STATUSES, SagaStatus, StepStatus


def saga_retry(*, saga_id, user, reason: str, expected_version: int | None = None, payload: dict | None = None) -> Saga:
    """Run the saga forward again from its failed (or stalled) step, optionally with an edited payload."""
    saga, steps = _load(saga_id, reason, expected_version)
    _require(saga, (SagaStatus.STUCK, SagaStatus.RUNNING), "retry forward")
    if any(s.status in COMPENSATION_STEP_STATUSES for s in steps):
        raise ActionRefused("the saga was compensating: retry the compensation instead", saga.status)
    step = next((s for s in steps if s.status not in (StepStatus.SUCCEEDED, StepStatus.SKIPPED)), None)
    detail: dict[str, Any] = {"step": step.name if step else ""}
    saga_changes = {"status": SagaStatus.RUNNING, "attention_reason": "", "wake_at": timezone.now()}
    if payload is not None and payload != saga.context.get("payload"):
        detail["payload_diff"] = payload_diff(saga.context.get("payload", {}), payload)
        saga_changes["context"] = {**saga.context, "payload": payload}
    step_changes = {"status": StepStatus.PENDING, "attempts": 0, "next_attempt_at": None, "lease_expires_at": None}
    return _act(saga, user, reason, "operator_retry", detail, saga_changes, step, step_changes if step else {})


def saga_compensate(*, saga_id, user, reason: str, expected_version: int | None = None) -> Saga:
    """Turn the saga back: compensate every step that took (or may have taken) effect."""
    saga, steps = _load(saga_id, reason, expected_version)
    _require(saga, (SagaStatus.STUCK, SagaStatus.RUNNING, SagaStatus.PENDING), "force compensation")
    if any(s.status == StepStatus.COMPENSATION_FAILED for s in steps):
        raise ActionRefused("a compensation already failed: retry the compensation instead", saga.status)
    definition = find_definition(saga.type, saga.definition_version)
    if definition is not None and pivot_passed(definition, steps):
        pivot = definition.steps[definition.pivot_index].name
        raise ActionRefused(
            f"the saga is past its pivot ({pivot}): its outcome stands; retry forward, skip the step or resolve",
            saga.status,
        )
    step = unsettled_step(steps)
    saga_changes = {"status": SagaStatus.COMPENSATING, "attention_reason": "", "wake_at": timezone.now()}
    hook = definition.on_force_compensate if definition is not None else None
    with transaction.atomic():
        _act(saga, user, reason, "operator_compensate", {}, saga_changes, step, ABANDON_STEP if step else {})
        if hook is not None:
            hook(saga=saga, user=user, reason=reason.strip())  # a choreographed saga: ask its services
    return saga


def saga_retry_compensation(*, saga_id, user, reason: str, expected_version: int | None = None) -> Saga:
    saga, steps = _load(saga_id, reason, expected_version)
    _require(saga, (SagaStatus.STUCK,), "retry compensation")
    step = next((s for s in steps if s.status == StepStatus.COMPENSATION_FAILED), None)
    if step is None:
        raise ActionRefused("no compensation has failed: nothing to retry", saga.status)
    step_changes = {"status": StepStatus.COMPENSATING, "compensation_attempts": 0, "next_attempt_at": None}
    saga_changes = {"status": SagaStatus.COMPENSATING, "attention_reason": "", "wake_at": timezone.now()}
    return _act(
        saga, user, reason, "operator_retry_compensation", {"step": step.name}, saga_changes, step, step_changes
    )


def step_skip(*, saga_id, step_name: str, user, reason: str, expected_version: int | None = None) -> Saga:
    """Skip a failed forward step (the operator did its work by hand) and go on with the next."""
    saga, steps = _load(saga_id, reason, expected_version)
    _require(saga, (SagaStatus.STUCK,), "skip a step")
    step = _step(saga, steps, step_name)
    if step.status != StepStatus.FAILED:
        raise ActionRefused(f"step {step_name} is {step.status}; only a failed step can be skipped", saga.status)
    if any(s.status in COMPENSATION_STEP_STATUSES for s in steps):
        raise ActionRefused("the saga was compensating: mark the compensation done instead", saga.status)
    saga_changes = {"status": SagaStatus.RUNNING, "attention_reason": "", "wake_at": timezone.now()}
    return _act(
        saga,
        user,
        reason,
        "operator_skip_step",
        {"step": step_name},
        saga_changes,
        step,
        {"status": StepStatus.SKIPPED, "finished_at": timezone.now()},
    )


def compensation_mark_done(*, saga_id, step_name: str, user, reason: str, expected_version: int | None = None) -> Saga:
    """The operator undid a step by hand: record its compensation as done and carry on compensating."""
    saga, steps = _load(saga_id, reason, expected_version)
    _require(saga, (SagaStatus.STUCK,), "mark a compensation done")
    step = _step(saga, steps, step_name)
    if step.status != StepStatus.COMPENSATION_FAILED:
        raise ActionRefused(f"step {step_name} is {step.status}; its compensation has not failed", saga.status)
    saga_changes = {"status": SagaStatus.COMPENSATING, "attention_reason": "", "wake_at": timezone.now()}
    return _act(
        saga,
        user,
        reason,
        "operator_compensation_done",
        {"step": step_name},
        saga_changes,
        step,
        {"status": StepStatus.COMPENSATED, "finished_at": timezone.now()},
    )


def saga_resolve(*, saga_id, user, reason: str, expected_version: int | None = None) -> Saga:
    """Close a stuck saga by hand: the operator has settled it outside sagaops."""
    saga, _ = _load(saga_id, reason, expected_version)
    _require(saga, (SagaStatus.STUCK,), "resolve")
    saga_changes = {"status": SagaStatus.RESOLVED, "finished_at": timezone.now(), "wake_at": None}
    return _act(saga, user, reason, "operator_resolve", {}, saga_changes, None, {})


def payload_diff(before: dict, after: dict) -> dict[str, dict[str, Any]]:
    """{key: {"before": ..., "after": ...}} for each top-level key that changed."""
    keys = sorted(set(before) | set(after))
    return {k: {"before": before.get(k), "after": after.get(k)} for k in keys if before.get(k) != after.get(k)}


def _load(saga_id, reason: str, expected_version: int | None) -> tuple[Saga, list[SagaStep]]:
    if not (reason or "").strip():
        raise ActionRefused("a reason is required")
    saga = Saga.objects.get(pk=saga_id)
    if expected_version is not None and saga.version != expected_version:
        raise ConcurrentUpdate(
            f"the saga changed since you looked (version {expected_version}, now {saga.version}): "
            f"it is {saga.status}; reload and decide again",
            saga.status,
        )
    return saga, list(SagaStep.objects.filter(saga=saga).order_by("index"))


def _require(saga: Saga, allowed: tuple[str, ...], action: str) -> None:
    if saga.status not in allowed:
        raise ActionRefused(f"cannot {action} a {saga.status} saga", saga.status)


def _step(saga: Saga, steps: list[SagaStep], name: str) -> SagaStep:
    step = next((s for s in steps if s.name == name), None)
    if step is None:
        raise ActionRefused(f"saga {saga.pk} has no step {name!r}", saga.status)
    return step


def _act(saga, user, reason, kind, detail, saga_changes, step, step_changes) -> Saga:
    event = Event(
        kind, step.name if step else "", detail, SagaEvent.Actor.OPERATOR, user.get_username(), reason.strip(), user.pk
    )
    with transaction.atomic():
        wakes = saga_changes["status"] in (SagaStatus.RUNNING, SagaStatus.COMPENSATING)
        transition(
            saga, saga_changes=saga_changes, step=step, step_changes=step_changes, events=[event], enqueue_advance=wakes
        )
        LogEntry.objects.create(
            user_id=user.pk,
            content_type=ContentType.objects.get_for_model(Saga),
            object_id=str(saga.pk),
            object_repr=str(saga)[:200],
            action_flag=CHANGE,
            change_message=f"{kind.removeprefix('operator_').replace('_', ' ')}: {reason.strip()}",
        )
    return saga
