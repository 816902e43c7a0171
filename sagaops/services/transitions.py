"""The one fenced write every saga transition goes through.

`transition` checks the moves against the state tables, updates the saga only if its version is
still the one this process read (+1), updates the step, appends the timeline events, and after
commit mirrors the new state to Redis and (optionally) enqueues the next advance.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import redis
from celery import current_app
from django.db import transaction
from django.utils import timezone

from sagaops import dispatch, mirror
from sagaops.exceptions import ConcurrentUpdate
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.observability.hooks import transition_committed, transition_written
from sagaops.rules import Change, Event
from sagaops.services.bounds import bounded_detail
from sagaops.services.fenced_write import fenced_write
from sagaops.states import ACTIVE_SAGA_STATUSES, FINISHED_SAGA_STATUSES, check_saga_move, check_step_move

log = logging.getLogger(__name__)

CHILD_FINISHED_TASK = "sagaops.tasks.child_finished"


def transition(
    saga: Saga,
    *,
    saga_changes: dict[str, Any] | None = None,
    step: SagaStep | None = None,
    step_changes: dict[str, Any] | None = None,
    events: list[Event] = (),
    enqueue_advance: bool = False,
    run: LocalRun | None = None,
    wait_for_flush: bool = True,
) -> None:
    """Apply one transition; raises ConcurrentUpdate if someone else moved the saga first.

    Runs inside the caller's transaction when there is one, adding no savepoint of its own: a
    local step's savepoint holds its action and this checkpoint, and rolls both back together.
    Without one, its single statement commits by itself.
    After commit the new state goes to the Redis mirror. Inside a `run` (transitions that commit
    together) the saga row is written once for the run and its events are published once.
    `wait_for_flush=False`: when this transition commits on its own, its commit does not wait for
    the disk (see `fenced_write`).
    """
    saga_changes = dict(saga_changes or {})
    step_changes = dict(step_changes or {})
    if "status" in saga_changes and saga_changes["status"] != saga.status:
        check_saga_move(saga.status, saga_changes["status"])
    if step is not None and "status" in step_changes:
        check_step_move(step.status, step_changes["status"])
    now = timezone.now()
    new_version = saga.version + 1
    saga_values = {"version": new_version, "updated_at": now, **saga_changes}
    # One statement: the saga under its fence, the step and the events (see fenced_write). Inside
    # the caller's transaction it joins it; outside any, it is a transaction of its own and commits
    # as it returns, which saves the BEGIN and COMMIT round trips (and on_commit then runs at once).
    written = fenced_write(
        saga,
        version=saga.version if run is None else run.version,
        saga_values=saga_values if run is None else run.take(saga_values),
        step=step,
        step_values=step_changes,
        events=[event_row(saga, e, new_version) for e in events],
        wait_for_flush=wait_for_flush,
    )
    if not written:
        raise ConcurrentUpdate("the saga was changed by someone else; reload and try again", saga.status)
    _apply_in_memory(saga, saga_changes, version=new_version, updated_at=now)
    if step is not None:
        _apply_in_memory(step, step_changes)
    transition_written(events)
    for event in events:
        event.version = new_version
    if run is not None:
        run.written(saga, events)
    else:
        transaction.on_commit(partial(after_commit, copy.copy(saga), events, enqueue_advance))


@dataclass
class LocalRun:
    """Transitions that commit together (a run of local steps): one saga-row UPDATE for all of them.

    The first write locks the saga row under the fence (`SELECT ... FOR UPDATE` at `version`, the
    version in the database) without updating it; each step's checkpoint writes its step row and
    events, each event with the version its transition reached, and the saga's changes collect
    here. They are written in one fenced UPDATE with the transition that changes the saga's status
    (it ends the run), or by `flush` at the run's end or before a rollback is read back.
    """

    version: int
    pending: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def take(self, saga_values: dict[str, Any]) -> dict[str, Any]:
        """What this transition writes to the saga row: nothing yet, or everything collected."""
        self.pending.update(saga_values)
        return self.pending if "status" in saga_values else {}

    def written(self, saga: Saga, events: list[Event]) -> None:
        self.events.extend(events)
        if "status" in self.pending:
            self.pending, self.version = {}, saga.version

    def flush(self, saga: Saga) -> None:
        """Write the collected saga changes (inside the run's transaction)."""
        if not self.pending:
            return
        if not fenced_write(saga, version=self.version, saga_values=self.pending, step=None, step_values={}, events=[]):
            raise ConcurrentUpdate("the saga was changed by someone else; reload and try again", saga.status)
        self.pending, self.version = {}, saga.version

    def publish_on_commit(self, saga: Saga) -> None:
        """The run commits once: mirror its final state and all its events once."""
        transaction.on_commit(partial(after_commit, copy.copy(saga), self.events, False))


def set_wake(saga: Saga, when) -> None:
    """Record when the engine must look at the saga next; not a transition, so no version bump."""
    if saga.wake_at != when:
        if not Saga.objects.filter(pk=saga.pk, version=saga.version).update(wake_at=when):
            return  # the saga moved on: its new owner sets its timer
        saga.wake_at = when
    try:
        mirror.timer_set(saga.id, when)
    except redis.RedisError:
        log.warning("could not arm the timer of saga %s; the reconcile pass re-arms it", saga.id)


def event_row(saga: Saga, event: Event, version: int) -> SagaEvent:
    return SagaEvent(
        saga_id=saga.pk,
        kind=event.kind,
        step=event.step,
        detail=bounded_detail(event.detail),
        actor_type=event.actor_type,
        actor=event.actor,
        reason=event.reason,
        user_id=event.user_id,
        version=version,
    )


def _apply_in_memory(obj, changes: dict[str, Any], **extra: Any) -> None:
    for name, value in {**changes, **extra}.items():
        setattr(obj, name, value)


def after_commit(saga: Saga, events: list[Event], enqueue_advance: bool) -> None:
    compact = [{"k": e.kind, "s": e.step, "v": e.version or saga.version} for e in events]
    active = saga.status in ACTIVE_SAGA_STATUSES
    mirror.publish(
        saga, compact, finished=saga.status in FINISHED_SAGA_STATUSES, wake_at=saga.wake_at if active else None
    )
    if enqueue_advance:
        enqueue_advance_task(saga.id)
    if saga.status in FINISHED_SAGA_STATUSES and getattr(saga, "parent_id", None):
        notify_parent(saga.id)  # a child saga's end answers its parent's step
    transition_committed(saga, events)  # metrics, event log lines, alerts


def enqueue_advance_task(saga_id) -> None:
    """Send an advance; if the broker is down, the saga's timer (wake_at) starts it later."""
    try:
        dispatch.task(dispatch.ADVANCE).delay(str(saga_id))
    except Exception:  # kombu raises its own connection errors; the database already has the truth
        log.warning("could not enqueue an advance of saga %s; its timer will run it", saga_id, exc_info=True)


def notify_parent(child_id) -> None:
    """Send `child_finished`; if the broker is down, the parent step's lease looks again later."""
    try:
        current_app.send_task(CHILD_FINISHED_TASK, args=(str(child_id),))
    except Exception:  # kombu raises its own connection errors
        log.warning("could not notify the parent of child saga %s; its step's lease will", child_id, exc_info=True)


def apply_change(
    saga: Saga,
    steps: list[SagaStep],
    change: Change,
    *,
    enqueue_advance: bool = False,
    run: LocalRun | None = None,
    wait_for_flush: bool = True,
) -> None:
    """Write a rule's change: its saga fields, its step's fields and its events, under the fence."""
    step = steps[change.step_index] if change.step_index is not None else None
    transition(
        saga,
        saga_changes=change.saga,
        step=step,
        step_changes=change.step,
        events=change.events,
        enqueue_advance=enqueue_advance,
        run=run,
        wait_for_flush=wait_for_flush,
    )
