"""Bulk actions: record what the operator confirmed, then apply it saga by saga in a Celery task.

Each saga goes through the same engine service as a single action, fenced by the version the
operator saw in the preview, so a saga that moved since is refused, not acted on blindly.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from sagaops import dispatch
from sagaops.console.actions import ACTIONS, BULK_ACTIONS
from sagaops.exceptions import ActionRefused, ConcurrentUpdate
from sagaops.models import BulkAction

log = logging.getLogger(__name__)

MAX_BULK = 1000
SAVE_EVERY = 10


def bulk_action_start(
    *, user, action: str, reason: str, items: list[dict], step: str = "", source: str = ""
) -> BulkAction:
    """Record a confirmed bulk action and enqueue its task after commit."""
    spec = ACTIONS.get(action)
    if spec is None or action not in BULK_ACTIONS:
        raise ActionRefused(f"unknown bulk action {action!r}")
    if not spec.allowed(user):
        raise ActionRefused(f"you do not have the permission to {spec.label.lower()}")
    if not (reason or "").strip():
        raise ActionRefused("a reason is required")
    if not items:
        raise ActionRefused("no saga selected")
    if len(items) > MAX_BULK:
        raise ActionRefused(f"at most {MAX_BULK} sagas per bulk action (you selected {len(items)}); narrow it down")
    if spec.per_step and not step:
        raise ActionRefused(f"{spec.label} needs a step")
    clean = [{"saga": str(i["saga"]), "version": int(i["version"])} for i in items]
    bulk = BulkAction.objects.create(
        user=user, action=action, step=step, reason=reason.strip(), source=source[:300], items=clean
    )
    transaction.on_commit(lambda: dispatch.task(dispatch.RUN_BULK_ACTION).delay(str(bulk.pk)))
    return bulk


def bulk_action_run(*, bulk_id) -> BulkAction | None:
    """Apply the action to each saga not done yet; a redelivered task picks up where it stopped."""
    bulk = BulkAction.objects.filter(pk=bulk_id).first()
    if bulk is None or bulk.status == BulkAction.Status.DONE:
        return bulk
    user = get_user_model().objects.get(pk=bulk.user_id)
    spec = ACTIONS[bulk.action]
    BulkAction.objects.filter(pk=bulk.pk).update(status=BulkAction.Status.RUNNING)
    results = dict(bulk.results)
    pending = [i for i in bulk.items if i["saga"] not in results]
    for n, item in enumerate(pending, start=1):
        results[item["saga"]] = _apply(spec, bulk, user, item)
        if n % SAVE_EVERY == 0:
            BulkAction.objects.filter(pk=bulk.pk).update(results=results)
    BulkAction.objects.filter(pk=bulk.pk).update(
        results=results, status=BulkAction.Status.DONE, finished_at=timezone.now()
    )
    bulk.refresh_from_db()
    return bulk


def _apply(spec, bulk: BulkAction, user, item: dict) -> dict[str, str]:
    try:
        spec.run(saga_id=item["saga"], user=user, reason=bulk.reason, expected_version=item["version"], step=bulk.step)
    except ConcurrentUpdate as error:
        return {"outcome": "refused", "message": str(error)}
    except ActionRefused as error:
        return {"outcome": "refused", "message": str(error)}
    except Exception as error:  # one bad saga must not stop the others
        log.exception("bulk action %s failed on saga %s", bulk.pk, item["saga"])
        return {"outcome": "error", "message": f"{type(error).__name__}: {error}"}
    return {"outcome": "done", "message": ""}
