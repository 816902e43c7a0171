"""Payments' retention: tombstones that can no longer stop anything.

A tombstone (a refund that arrived before its charge: refunded, amount 0, no customer) refuses a
late charge with the same reference. A late call comes at most a saga's lifetime after the
refund, so tombstones older than the retention (days) guard nothing; sagaops_prune calls this.
"""

from __future__ import annotations

from datetime import datetime

from payments.models import Payment


def tombstones_prune(*, older_than: datetime, batch: int, dry_run: bool) -> int:
    old = Payment.objects.filter(status=Payment.Status.REFUNDED, customer="", amount=0, created__lt=older_than)
    if dry_run:
        return old.count()
    deleted = 0
    while ids := list(old.order_by("created").values_list("pk", flat=True)[:batch]):
        count, _ = Payment.objects.filter(pk__in=ids).delete()
        deleted += count
        if len(ids) < batch:
            break
    return deleted
