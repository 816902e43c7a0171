"""Child sagas: the parent's step starts the child, the child's end answers the parent's step, and
a compensating parent recalls a completed child.

A child is an ordinary saga with `parent` and `parent_step` set. Its end reaches the parent as
the async step's callback (`step_complete` / `step_fail`), sent after the child's final commit
by `child_finished`; a lost notification is made good by the parent step's lease: its retry
starts nothing new (the same idempotency key) and, finding the child finished, answers at once.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from sagaops.definitions import StepContext
from sagaops.exceptions import ActionRefused, ConcurrentUpdate
from sagaops.models import Saga, SagaStep
from sagaops.rules import children
from sagaops.services.callbacks import step_complete, step_fail
from sagaops.services.start import saga_start
from sagaops.services.transitions import apply_change, notify_parent
from sagaops.states import FINISHED_SAGA_STATUSES, SagaStatus

log = logging.getLogger(__name__)


class ChildStillRunning(Exception):
    """The recalled child has not finished compensating yet: the compensation looks again."""


def child_key(parent_id, step: str) -> str:
    return f"child:{parent_id}:{step}"


def child_start(ctx: StepContext, *, saga_type: str, payload) -> dict[str, Any]:
    """The ChildSaga step's action: start the child (once) linked to its parent."""
    with transaction.atomic():
        child, created = saga_start(
            saga_type=saga_type,
            payload=payload(ctx),
            idempotency_key=child_key(ctx.saga_id, ctx.step),
            correlation_id=ctx.correlation_id or ctx.saga_id,
        )
        if created:  # linked in the transaction that creates it: it cannot end unlinked
            Saga.objects.filter(pk=child.pk).update(parent_id=ctx.saga_id, parent_step=ctx.step)
        elif child.status in FINISHED_SAGA_STATUSES:
            transaction.on_commit(lambda: notify_parent(child.pk))  # a retry after a lost notification
    return {"child_saga_id": str(child.pk)}


def child_finished(*, child_id) -> str:
    """Answer the parent's step with the child's outcome. Returns what the parent's step took."""
    child = Saga.objects.filter(pk=child_id).first()
    if child is None or child.parent_id is None or child.status not in FINISHED_SAGA_STATUSES:
        return "nothing"
    try:
        if child.status == SagaStatus.COMPLETED:
            results = dict(SagaStep.objects.filter(saga=child).order_by("index").values_list("name", "result"))
            result = {"child_saga_id": str(child.pk), "results": results}
            return step_complete(saga_id=child.parent_id, step_name=child.parent_step, result=result, actor="child")
        error = f"child saga {child.type} {child.pk} was {child.status}"
        return step_fail(
            saga_id=child.parent_id, step_name=child.parent_step, error=error, retryable=False, actor="child"
        )
    except ActionRefused as refusal:
        log.info("parent of child saga %s did not take its end: %s", child.pk, refusal)
        return "refused"


def child_recall(ctx: StepContext) -> dict[str, Any]:
    """The ChildSaga step's compensation: compensate the child, and wait until it is."""
    child = Saga.objects.filter(idempotency_key=child_key(ctx.saga_id, ctx.step)).first()
    if child is None or child.status in (SagaStatus.COMPENSATED, SagaStatus.RESOLVED):
        return {"recalled": False}  # nothing (left) to undo
    if child.status != SagaStatus.COMPENSATING:
        steps = list(SagaStep.objects.filter(saga=child).order_by("index"))
        change = children.recall_change(child, steps, now=timezone.now())
        if change is not None:
            try:
                with transaction.atomic():
                    apply_change(child, steps, change, enqueue_advance=True)
            except ConcurrentUpdate:
                pass  # it moved under us: look again on the next attempt
    raise ChildStillRunning(f"child saga {child.pk} is compensating")
