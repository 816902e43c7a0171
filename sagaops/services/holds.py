"""Holds: place one, release its sagas at a rate, pause or cancel the release.

`sagaops.rules.holds` decides; this module loads, asks and writes. The executor reads the holds in
force (`holds_in_force`) once per advance and holds a saga when the rules say so; the release is
a Celery task (`sagaops.tasks.release_hold`) that lets a batch of held sagas go, oldest first, and
schedules itself again after the batch's share of a second. The beat's `holds_kick` restarts a
release whose task was lost. Every hold action is in Django's admin log with its operator and
reason, and each released saga's timeline shows the release.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.admin.models import ADDITION, CHANGE
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from sagaops import dispatch, rules
from sagaops.definitions import SagaDefinition, registered_definitions
from sagaops.exceptions import ActionRefused, ConcurrentUpdate
from sagaops.models import Hold, Saga, SagaEvent, SagaStep
from sagaops.services.breaker_counts import breaker_reset
from sagaops.services.paced_chains import audit, overdue_restart, refuse_if, tick_enqueue
from sagaops.services.transitions import apply_change
from sagaops.states import StepStatus

log = logging.getLogger(__name__)


def holds_in_force(definition: SagaDefinition) -> list[Hold]:
    """The holds that may concern a saga of this type: on one of its steps, or on a participant."""
    participants = {s.participant for s in definition.steps if s.participant}
    concern = Q(saga_type=definition.name) | Q(participant__in=participants)
    return list(Hold.objects.filter(concern, status__in=Hold.IN_FORCE))


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ActionRefused("a reason is required")
    return reason.strip()


def hold_place(
    *, user, reason: str, saga_type: str = "", step: str = "", participant: str = "", source: str = "operator"
) -> Hold:
    """Hold a step of a saga type, or every step that declares a participant."""
    reason = _reason(reason)
    refuse_if(
        rules.target_refusal(
            saga_type=saga_type, step=step, participant=participant, definitions=registered_definitions()
        )
    )
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                saga_type=saga_type, step=step, participant=participant, reason=reason, created_by=user, source=source
            )
            audit(hold, user, ADDITION, f"hold {hold.target}: {reason}")
    except IntegrityError:
        existing = Hold.objects.filter(
            saga_type=saga_type, step=step, participant=participant, status__in=Hold.IN_FORCE
        ).first()
        raise ActionRefused(f"{existing or 'that target'} is already in force") from None
    log.warning("hold #%s placed on %s by %s: %s", hold.pk, hold.target, getattr(user, "username", source), reason)
    return hold


def _locked(hold_id) -> Hold:
    hold = Hold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise Hold.DoesNotExist(f"no hold {hold_id}")
    return hold


def hold_release(*, hold_id, user, reason: str, rate: float) -> Hold:
    """Let the held sagas go at `rate` per second (also resumes a paused release, at the new rate)."""
    reason = _reason(reason)
    with transaction.atomic():
        hold = _locked(hold_id)
        refuse_if(rules.can_release(hold, rate))
        hold.status, hold.release_rate = Hold.Status.RELEASING, rate
        hold.released_by, hold.release_reason = user, reason
        hold.release_started_at = hold.release_started_at or timezone.now()
        # A new chain of ticks: a tick of an earlier (paused) chain still queued finds nothing to do.
        hold.release_tick += 1
        hold.next_tick_at = timezone.now()
        fields = ["status", "release_rate", "released_by", "release_reason", "release_started_at", "release_tick"]
        hold.save(update_fields=[*fields, "next_tick_at"])
        audit(hold, user, CHANGE, f"release at {rate:g}/s: {reason}")
        if hold.step:
            breaker_reset(hold.saga_type, hold.step)  # the burst that tripped it is over
        tick = hold.release_tick
        transaction.on_commit(lambda: tick_enqueue(dispatch.RELEASE_HOLD, hold.pk, tick))
    return hold


def hold_pause_release(*, hold_id, user, reason: str) -> Hold:
    reason = _reason(reason)
    with transaction.atomic():
        hold = _locked(hold_id)
        refuse_if(rules.can_pause_release(hold))
        hold.status, hold.next_tick_at = Hold.Status.PAUSED, None
        hold.save(update_fields=["status", "next_tick_at"])
        audit(hold, user, CHANGE, f"pause the release: {reason}")
    return hold


def hold_cancel_release(*, hold_id, user, reason: str) -> Hold:
    """Stop releasing: the hold holds again (the sagas already let go carry on)."""
    reason = _reason(reason)
    with transaction.atomic():
        hold = _locked(hold_id)
        refuse_if(rules.can_cancel_release(hold))
        hold.status, hold.next_tick_at = Hold.Status.ACTIVE, None
        hold.save(update_fields=["status", "next_tick_at"])
        audit(hold, user, CHANGE, f"cancel the release: {reason}")
    return hold


def held_steps(hold: Hold):
    return SagaStep.objects.filter(status=StepStatus.HELD, held_by=hold.pk)


def hold_release_tick(*, hold_id, tick: int) -> bool:
    """Let one batch go and schedule the next tick; False when there is nothing (more) to do.

    `tick` numbers the release's chain of tasks: a tick runs only if it is the hold's current one
    and claims the next number first, so a duplicate (the beat restarting a late chain that was
    only slow) finds nothing to do and the rate is never doubled.
    """
    hold = Hold.objects.filter(pk=hold_id).first()
    if hold is None or hold.status != Hold.Status.RELEASING:
        return False
    batch, interval = rules.release_batch(hold.release_rate)
    claimed = Hold.objects.filter(pk=hold.pk, status=Hold.Status.RELEASING, release_tick=tick).update(
        release_tick=tick + 1, next_tick_at=timezone.now() + timedelta(seconds=interval)
    )
    if not claimed:
        return False
    step_ids = list(held_steps(hold).order_by("held_at", "id").values_list("id", flat=True)[:batch])
    released = sum(_release_one(step_id, hold) for step_id in step_ids)
    if released:
        Hold.objects.filter(pk=hold.pk).update(released_count=F("released_count") + released)
    if len(step_ids) < batch and not held_steps(hold).exists():
        finished = Hold.objects.filter(pk=hold.pk, status=Hold.Status.RELEASING).update(
            status=Hold.Status.RELEASED, finished_at=timezone.now(), next_tick_at=None
        )
        if finished:
            log.warning("hold #%s on %s released", hold.pk, hold.target)
        return False
    transaction.on_commit(lambda: tick_enqueue(dispatch.RELEASE_HOLD, hold.pk, tick + 1, countdown=interval))
    return True


def holds_kick(*, now=None) -> int:
    """Restart the releases whose next tick is overdue (its task was lost with a worker)."""
    releasing = Hold.objects.filter(status=Hold.Status.RELEASING)
    return overdue_restart(releasing, tick_field="release_tick", task=dispatch.RELEASE_HOLD, now=now or timezone.now())


def _release_one(step_id: int, hold: Hold) -> int:
    """1 if the saga was let go; 0 if it moved on meanwhile (an operator, another release)."""
    step = SagaStep.objects.select_related("saga").filter(pk=step_id).first()
    if step is None:
        return 0
    saga = step.saga
    steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
    step = steps[step.index]
    if rules.can_release_step(saga, step) is not None:
        return 0
    change = rules.on_step_released(saga, step, now=timezone.now(), hold_id=hold.pk)
    for event in change.events:
        event.actor_type, event.actor = SagaEvent.Actor.OPERATOR, _username(hold.released_by)
        event.reason, event.user_id = hold.release_reason, hold.released_by_id
    try:
        apply_change(saga, steps, change, enqueue_advance=True)
    except (ConcurrentUpdate, Saga.DoesNotExist):
        return 0
    return 1


def _username(user) -> str:
    return user.get_username() if user is not None else "system"
