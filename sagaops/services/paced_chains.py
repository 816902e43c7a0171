"""What the paced chains of ticks share (a hold's release, a bulk action): each chain's state is
a PostgreSQL row with a tick counter and `next_tick_at`, each tick enqueues the next, the beat
restarts a chain whose tick is overdue, and every operator command on it is audited in the
admin log."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models

from sagaops import dispatch
from sagaops.exceptions import ActionRefused
from sagaops.rules import Refusal

log = logging.getLogger(__name__)

# A chain whose next tick is this late has lost its task (with a worker): the beat sends it again.
TICK_LATE = timedelta(seconds=10)


def refuse_if(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise ActionRefused(refusal.message)


def audit(obj: models.Model, user, flag: int, message: str) -> None:
    """One admin log entry for an operator's command on the chain's row (none without a user)."""
    if user is None:
        return
    LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=flag,
        change_message=message[:2000],
    )


def tick_enqueue(task: str, chain_id, tick: int, countdown: float | None = None) -> None:
    """Send the chain's tick `tick`; a broker that refuses is left to the beat's restart."""
    try:
        dispatch.task(task).apply_async((chain_id, tick), countdown=countdown or None)
    except Exception:  # kombu raises its own connection errors
        log.warning("could not enqueue tick %s of %s %s; the beat restarts it", tick, task, chain_id, exc_info=True)


def overdue_restart(chains: models.QuerySet, *, tick_field: str, task: str, now: datetime) -> int:
    """Send again the current tick of every chain in `chains` whose next tick is overdue."""
    late = chains.filter(next_tick_at__lt=now - TICK_LATE).values_list("pk", tick_field)
    kicked = 0
    for chain_id, tick in late:
        tick_enqueue(task, chain_id if isinstance(chain_id, int) else str(chain_id), tick)  # a UUID as text
        kicked += 1
    return kicked
