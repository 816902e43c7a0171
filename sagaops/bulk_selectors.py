"""Read queries about bulk actions: the preview of a selection, a run's progress and its aftermath."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils import timezone

from sagaops.console.actions import refusal
from sagaops.models import BulkAction, BulkActionItem, Saga, SagaStep
from sagaops.services.bulk import Selection
from sagaops.states import SagaStatus

PREVIEW_LIMIT = 20
PREVIEW_MAX = 200
# What became of the sagas an action was applied to, in the order an operator reads it.
AFTERMATH = (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.STUCK, SagaStatus.RESOLVED)


@dataclass(frozen=True)
class PreviewRow:
    saga: Saga
    verdict: str  # "apply" | "refuse"
    reason: str  # the rule's refusal, or ""


@dataclass(frozen=True)
class Preview:
    count: int
    rows: list[PreviewRow]


def bulk_preview(*, action: str, step: str, selection: Selection, readable, limit: int = PREVIEW_LIMIT) -> Preview:
    """How many sagas the selection holds, and for the first `limit` (in the order a run takes
    them) what the action would do to each now: the same rules the run asks."""
    sagas = selection.sagas(readable)
    first = list(sagas.order_by("created_at", "id")[: min(limit, PREVIEW_MAX)])
    steps: dict[Any, list[SagaStep]] = {}
    for row in SagaStep.objects.filter(saga__in=[s.pk for s in first]).order_by("saga", "index"):
        steps.setdefault(row.saga_id, []).append(row)
    now = timezone.now()
    rows = []
    for saga in first:
        refused = refusal(action, saga, steps.get(saga.pk, []), step=step, now=now)
        rows.append(PreviewRow(saga, "refuse" if refused else "apply", refused.message if refused else ""))
    return Preview(count=sagas.count(), rows=rows)


def bulk_outcomes(bulk: BulkAction) -> dict[str, int]:
    """{pending, applied, refused, failed: count}."""
    counts = dict(bulk.items.values_list("outcome").annotate(n=Count("id")).order_by())
    return {o: counts.get(o, 0) for o in BulkActionItem.Outcome.values}


def bulk_aftermath(bulk: BulkAction) -> dict[str, int]:
    """The current status of the sagas the action was applied to: how many then completed,
    compensated, became stuck again (or were resolved); the rest are still on their way."""
    applied = bulk.items.filter(outcome=BulkActionItem.Outcome.APPLIED).values("saga_id")
    counts = dict(Saga.objects.filter(pk__in=applied).values_list("status").annotate(n=Count("id")).order_by())
    result = {str(s): counts.pop(s, 0) for s in AFTERMATH}
    result["in_flight"] = sum(counts.values())
    return result


def bulk_items(bulk: BulkAction, *, outcome: str = "", limit: int = 200) -> list[BulkActionItem]:
    """Items in run order (refusals and failures first when asked for), each with `saga` (or None)."""
    items = bulk.items.order_by("id")
    if outcome:
        items = items.filter(outcome=outcome)
    items = list(items[:limit])
    sagas = Saga.objects.in_bulk([i.saga_id for i in items])
    for item in items:
        item.saga = sagas.get(item.saga_id)
    return items


def bulk_get(*, bulk_id) -> BulkAction | None:
    return BulkAction.objects.select_related("user").filter(pk=bulk_id).first()


def bulk_summary(counts: dict[str, int], bulk: BulkAction) -> str:
    """What came of it, honestly: "8 applied, 1 refused" rather than "9 processed"."""
    shown = [f"{counts[o]} {o}" for o in ("applied", "refused", "failed") if counts.get(o)]
    text = ", ".join(shown) or "nothing yet"
    if counts.get("pending"):
        verb = "not reached" if bulk.finished else "to go"
        return f"{text} ({counts['pending']} {verb})"
    return f"Partial: {text}" if bulk.finished and counts.get("applied", 0) < bulk.total else text


def with_summaries(bulks: list[BulkAction]) -> list[BulkAction]:
    """Each bulk action with `summary` (one query for all of them)."""
    rows = BulkActionItem.objects.filter(bulk__in=bulks).values_list("bulk_id", "outcome").annotate(n=Count("id"))
    counts: dict[Any, dict[str, int]] = {}
    for bulk_id, outcome, n in rows.order_by():
        counts.setdefault(bulk_id, {})[outcome] = n
    for bulk in bulks:
        bulk.summary = bulk_summary(counts.get(bulk.pk, {}), bulk)
    return bulks
