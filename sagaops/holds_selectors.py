"""Read queries about holds: the list with each hold's progress, and the held sagas."""

from __future__ import annotations

from django.db.models import Count

from sagaops.models import Hold, SagaStep
from sagaops.states import StepStatus

HELD_LISTED = 200


def hold_list(*, status: str | None = None, limit: int = 200) -> list[Hold]:
    """Newest first; each hold carries `held` (sagas it holds now) and `progress` (0..1 or None)."""
    holds = Hold.objects.select_related("created_by", "released_by").order_by("-created_at")
    if status:
        holds = holds.filter(status=status)
    holds = list(holds[:limit])
    counts = dict(
        SagaStep.objects.filter(status=StepStatus.HELD, held_by__in=[h.pk for h in holds])
        .values_list("held_by")
        .annotate(n=Count("id"))
    )
    for hold in holds:
        annotate_progress(hold, counts.get(hold.pk, 0))
    return holds


def hold_get(*, hold_id) -> Hold:
    hold = Hold.objects.select_related("created_by", "released_by").filter(pk=hold_id).first()
    if hold is None:
        raise Hold.DoesNotExist(f"no hold {hold_id}")
    return annotate_progress(hold, SagaStep.objects.filter(status=StepStatus.HELD, held_by=hold.pk).count())


def annotate_progress(hold: Hold, held: int) -> Hold:
    hold.held = held
    total = hold.released_count + held
    started = hold.release_started_at is not None
    hold.progress = (
        (1.0 if hold.status == Hold.Status.RELEASED else hold.released_count / total) if started and total else None
    )
    return hold


def held_steps_list(*, limit: int = HELD_LISTED) -> list[SagaStep]:
    """The held steps with their sagas, oldest held first: the stuck page's "held" section."""
    return list(SagaStep.objects.filter(status=StepStatus.HELD).select_related("saga").order_by("held_at")[:limit])


def held_count() -> int:
    return SagaStep.objects.filter(status=StepStatus.HELD).count()
