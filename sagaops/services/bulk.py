"""Bulk actions: one operator action over a selection of sagas, at a rate, pausable.

`bulk_start` snapshots the selection (a saga filter, or a list the operator confirmed) as item
rows with each saga's version, in one statement, and starts a chain of Celery ticks
(`sagaops.tasks.bulk_tick`). Each tick reads the bulk action's state in PostgreSQL (so a pause or
a cancel lands between two batches), applies the action to the next batch in id order (a keyset)
through the same operator service as a single repair (rules, version fence, timeline, admin
log), records each saga's outcome, and schedules the next tick on the rate's token schedule
(`sagaops.rules.bulk`). The beat's `bulks_kick` restarts a chain whose task was lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from sagaops import dispatch, rules
from sagaops.console.actions import ACTIONS, BULK_ACTIONS, Action
from sagaops.exceptions import ActionRefused, NotPermitted
from sagaops.models import BulkAction, BulkActionItem, Saga
from sagaops.selection import filter_label, filter_parse, filter_storable, saga_filter
from sagaops.services.paced_chains import audit, overdue_restart, refuse_if, tick_enqueue

log = logging.getLogger(__name__)

# A running bulk action whose next tick is this late lost its task: the beat restarts it.
Outcome = BulkActionItem.Outcome


class EmptySelection(ActionRefused):
    """The filter (or the list) selects no saga: there is nothing to run."""


@dataclass(frozen=True)
class Selection:
    """What a bulk action would act on: a filter over the sagas the operator may read, or a list."""

    filters: dict[str, Any]
    items: list[dict] | None = None  # [{"saga": id, "version": the version the operator saw}]

    def sagas(self, readable):
        if self.items is not None:
            return readable.filter(pk__in=[i["saga"] for i in self.items])
        return saga_filter(readable, self.filters)


def bulk_action_spec(*, user, action: str, step: str | None = None) -> Action:
    """The action, if it may run in bulk and `user` may run it (NotPermitted), with a step if it
    needs one (`step=None`: only the permission is asked)."""
    spec = ACTIONS.get(action)
    if spec is None or action not in BULK_ACTIONS:
        raise ActionRefused(f"unknown bulk action {action!r} (one of: {', '.join(BULK_ACTIONS)})")
    if not spec.allowed(user):
        raise NotPermitted(f"you need the {spec.perm} permission to {spec.label.lower()}")
    if spec.per_step and step is not None and not step:
        raise ActionRefused(f"{spec.label} needs a step")
    return spec


def selection_from(*, filters: Any = None, items: list[dict] | None = None) -> Selection:
    if items is not None:
        return Selection(filters={}, items=[{"saga": str(i["saga"]), "version": int(i["version"])} for i in items])
    return Selection(filters=filter_parse(filters or {}))


def bulk_start(
    *, user, action: str, reason: str, rate: float, selection: Selection, readable, step: str = "", source: str = ""
) -> BulkAction:
    """Snapshot the selection and start the chain of ticks (after commit)."""
    spec = bulk_action_spec(user=user, action=action, step=step)
    if not (reason or "").strip():
        raise ActionRefused("a reason is required")
    if refusal := rules.rate_refusal(rate):
        raise ActionRefused(refusal.message)
    now = timezone.now()
    label = source or (f"filter {filter_label(selection.filters)}" if selection.items is None else "saga list")
    with transaction.atomic():
        bulk = BulkAction.objects.create(
            user=user, action=spec.name, step=step if spec.per_step else "", reason=reason.strip(), rate=rate,
            source=label[:300], filters=filter_storable(selection.filters), paced_from=now, tick=1, next_tick_at=now,
        )  # fmt: skip
        total = _snapshot(bulk, selection, readable)
        if not total:
            raise EmptySelection("the selection has no saga: nothing to run")
        BulkAction.objects.filter(pk=bulk.pk).update(total=total)
        bulk.total = total
        audit(bulk, user, ADDITION, f"start {spec.name} on {total} saga(s) at {rate:g}/s ({label}): {reason.strip()}")
        transaction.on_commit(lambda: tick_enqueue(dispatch.BULK_TICK, str(bulk.pk), 1))
    return bulk


def _snapshot(bulk: BulkAction, selection: Selection, readable) -> int:
    """Item rows for every selected saga, oldest first, with its version: one INSERT ... SELECT."""
    if selection.items is not None:
        seen = {i["saga"]: i["version"] for i in selection.items}
        known = set(map(str, selection.sagas(readable).values_list("pk", flat=True)))
        rows = [BulkActionItem(bulk=bulk, saga_id=s, version=v) for s, v in seen.items() if s in known]
        return len(BulkActionItem.objects.bulk_create(rows))
    query = selection.sagas(readable).order_by().values("id", "version", "created_at")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BulkActionItem._meta.db_table} (bulk_id, saga_id, version, outcome, message) "  # noqa: S608
            f"SELECT %s, s.id, s.version, %s, '' FROM ({sql}) s ORDER BY s.created_at, s.id",
            [bulk.pk, Outcome.PENDING, *params],
        )
        return cursor.rowcount


def bulk_tick(*, bulk_id, tick: int) -> bool:
    """Apply the action to one batch and schedule the next tick; False when there is nothing to do.

    `tick` numbers the chain: a tick runs only if it is the current one and claims the next
    number first, so a duplicate (a late chain restarted) or a tick queued before a pause finds
    nothing to do and the rate is never doubled.
    """
    bulk = BulkAction.objects.filter(pk=bulk_id).first()
    if bulk is None or bulk.status != BulkAction.Status.RUNNING or bulk.tick != tick:
        return False
    size = rules.batch_size(bulk.rate)
    claimed = BulkAction.objects.filter(pk=bulk.pk, status=BulkAction.Status.RUNNING, tick=tick).update(
        tick=tick + 1, next_tick_at=timezone.now() + timedelta(seconds=size / bulk.rate)
    )
    if not claimed:
        return False
    items = list(BulkActionItem.objects.filter(bulk=bulk, id__gt=bulk.cursor).order_by("id")[:size])
    user = get_user_model().objects.get(pk=bulk.user_id)
    # The admin log rows of the repairs name a content type: a long-lived worker re-reads it once
    # per batch rather than trusting an id cached before a restore or a flush re-created them.
    ContentType.objects.clear_cache()
    with transaction.atomic():  # one commit per batch; each saga in a savepoint of its own
        done = sum(_apply(ACTIONS[bulk.action], bulk, user, item) for item in items)
        last = items[-1].pk if items else bulk.cursor
        BulkAction.objects.filter(pk=bulk.pk).update(cursor=Greatest("cursor", last), processed=F("processed") + done)
    bulk = BulkAction.objects.filter(pk=bulk.pk).first()
    if bulk is None:
        return False
    if len(items) < size:
        BulkAction.objects.filter(pk=bulk.pk, status=BulkAction.Status.RUNNING, tick=tick + 1).update(
            status=BulkAction.Status.DONE, finished_at=timezone.now(), next_tick_at=None
        )
        return False
    due = rules.next_tick_due(bulk, bulk.processed)
    moved = BulkAction.objects.filter(pk=bulk.pk, status=BulkAction.Status.RUNNING, tick=tick + 1).update(
        next_tick_at=due
    )
    if moved:
        countdown = max(0.0, (due - timezone.now()).total_seconds())
        transaction.on_commit(lambda: tick_enqueue(dispatch.BULK_TICK, str(bulk.pk), tick + 1, countdown=countdown))
    return bool(moved)


def _apply(spec: Action, bulk: BulkAction, user, item: BulkActionItem) -> int:
    """1 if this tick settled the item. The item row is locked while its saga is repaired and
    written in the same transaction (the batch's), so a saga is acted on once even if two ticks
    meet, and a tick that dies mid-batch leaves the whole batch to be done again."""
    item = BulkActionItem.objects.select_for_update().filter(pk=item.pk, outcome=Outcome.PENDING).first()
    if item is None:
        return 0
    item.outcome, item.message = _outcome(spec, bulk, user, item)
    item.processed_at = timezone.now()
    item.save(update_fields=["outcome", "message", "processed_at"])
    return 1


def _outcome(spec: Action, bulk: BulkAction, user, item: BulkActionItem) -> tuple[str, str]:
    try:
        with transaction.atomic():
            spec.run(saga_id=item.saga_id, user=user, reason=bulk.reason, expected_version=item.version, step=bulk.step)
    except ActionRefused as error:  # the rules or the fence (ConcurrentUpdate) said no
        return Outcome.REFUSED, str(error)
    except Saga.DoesNotExist:
        return Outcome.REFUSED, "the saga no longer exists"
    except Exception as error:  # one bad saga must not stop the others
        log.exception("bulk action %s failed on saga %s", bulk.pk, item.saga_id)
        return Outcome.FAILED, f"{type(error).__name__}: {error}"
    return Outcome.APPLIED, ""


def bulk_pause(*, bulk_id, user, reason: str = "") -> BulkAction:
    """Stop after the batch in progress; the ticks still queued find it paused and do nothing."""
    with transaction.atomic():
        bulk = _locked(bulk_id)
        refuse_if(rules.can_pause(bulk))
        bulk.status, bulk.tick, bulk.next_tick_at = BulkAction.Status.PAUSED, bulk.tick + 1, None
        bulk.save(update_fields=["status", "tick", "next_tick_at"])
        audit(bulk, user, CHANGE, f"pause: {reason.strip()}".strip(": "))
    return bulk


def bulk_resume(*, bulk_id, user, reason: str = "", rate: float | None = None) -> BulkAction:
    """Go on from where it stopped (at a new rate if given), on a fresh token schedule."""
    with transaction.atomic():
        bulk = _locked(bulk_id)
        refuse_if(rules.can_resume(bulk))
        if rate is not None:
            refuse_if(rules.rate_refusal(rate))
            bulk.rate = rate
        now = timezone.now()
        bulk.status, bulk.tick, bulk.next_tick_at = BulkAction.Status.RUNNING, bulk.tick + 1, now
        bulk.paced_from, bulk.paced_count = now, bulk.processed
        bulk.save(update_fields=["status", "rate", "tick", "next_tick_at", "paced_from", "paced_count"])
        audit(bulk, user, CHANGE, f"resume at {bulk.rate:g}/s: {reason.strip()}".strip(": "))
        tick = bulk.tick
        transaction.on_commit(lambda: tick_enqueue(dispatch.BULK_TICK, str(bulk.pk), tick))
    return bulk


def bulk_cancel(*, bulk_id, user, reason: str = "") -> BulkAction:
    """Stop for good: the sagas not reached yet stay as they are (pending in the report)."""
    with transaction.atomic():
        bulk = _locked(bulk_id)
        refuse_if(rules.can_cancel(bulk))
        bulk.status, bulk.tick, bulk.next_tick_at = BulkAction.Status.CANCELLED, bulk.tick + 1, None
        bulk.finished_at = timezone.now()
        bulk.save(update_fields=["status", "tick", "next_tick_at", "finished_at"])
        audit(bulk, user, CHANGE, f"cancel: {reason.strip()}".strip(": "))
    return bulk


def bulks_kick(*, now=None) -> int:
    """Restart the running bulk actions whose next tick is overdue (its task was lost)."""
    running = BulkAction.objects.filter(status=BulkAction.Status.RUNNING)
    return overdue_restart(running, tick_field="tick", task=dispatch.BULK_TICK, now=now or timezone.now())


def _locked(bulk_id) -> BulkAction:
    return BulkAction.objects.select_for_update().get(pk=bulk_id)
