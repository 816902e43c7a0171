"""Read queries of the choreography app: the console and the tests list through these."""

from __future__ import annotations

from django.db.models import QuerySet

from sagaops.choreography.bus import stream_key
from sagaops.choreography.models import ReportHandling
from sagaops.redis import get_redis


def handlings_for(*, saga_id=None, correlation_id: str = "") -> QuerySet[ReportHandling]:
    handlings = ReportHandling.objects.select_related("report", "rule_version__rule").prefetch_related("requests")
    if saga_id is not None:
        return handlings.filter(saga_id=saga_id).order_by("created_at")
    return handlings.filter(report__correlation_id=correlation_id).order_by("created_at")


def requested_commands(handling: ReportHandling) -> list[str]:
    return [r.command for r in handling.requests.order_by("position")]


def stream_info(name: str) -> dict:
    """Length and per-group pending counts of one stream (for the console and the tests)."""
    r = get_redis()
    key = stream_key(name)
    if not r.exists(key):
        return {"length": 0, "groups": {}}
    groups = {g["name"]: {"pending": g["pending"], "consumers": g["consumers"]} for g in r.xinfo_groups(key)}
    return {"length": r.xlen(key), "groups": groups}
