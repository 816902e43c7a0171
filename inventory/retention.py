"""Inventory's retention: tombstones that can no longer stop anything.

A tombstone (a reservation released before its reserve arrived, so without lines) refuses a late
reserve with the same reference. A late call comes at most a saga's lifetime after its release,
so tombstones older than the retention (days) guard nothing; sagaops_prune calls this.
"""

from __future__ import annotations

from datetime import datetime

from inventory.models import Reservation


def tombstones_prune(*, older_than: datetime, batch: int, dry_run: bool) -> int:
    old = Reservation.objects.filter(
        status=Reservation.Status.RELEASED, created__lt=older_than, lines__isnull=True
    ).order_by()
    if dry_run:
        return old.count()
    deleted = 0
    while ids := list(old.order_by("created").values_list("pk", flat=True)[:batch]):
        count, _ = Reservation.objects.filter(pk__in=ids, lines__isnull=True).delete()
        deleted += count
        if len(ids) < batch:
            break
    return deleted
