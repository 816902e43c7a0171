"""The outbox: an event is written in the publisher's transaction and XADDed after commit."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import redis
from django.db import transaction
from django.utils import timezone

from sagaops.choreography.models import OutboxEvent
from sagaops.conf import conf
from sagaops.keys import stream_key
from sagaops.redis import get_redis

if TYPE_CHECKING:
    from sagaops.choreography.bus import BusEvent

log = logging.getLogger(__name__)

# An unpublished row older than this was not sent by its own commit hook: the relay sends it.
RELAY_AFTER = timedelta(seconds=2)
RELAY_BATCH = 200
KEEP_PUBLISHED = timedelta(hours=1)


def outbox_add(event: BusEvent) -> OutboxEvent:
    row = OutboxEvent.objects.create(
        stream=event.stream,
        event_id=event.event_id,
        event_type=event.type,
        correlation_id=event.correlation_id,
        fields=event.to_fields(),
    )
    transaction.on_commit(lambda: outbox_flush(ids=[row.pk]))
    return row


def xadd(stream: str, fields: dict[str, str]) -> str:
    return get_redis().xadd(stream_key(stream), fields, maxlen=conf.SAGAOPS_STREAM_MAXLEN, approximate=True)


def _send(rows: list[OutboxEvent]) -> int:
    sent = 0
    for row in rows:
        try:
            message_id = xadd(row.stream, row.fields)
        except redis.RedisError as error:
            log.warning("outbox: could not publish %s %s (%s); the relay retries", row.event_type, row.event_id, error)
            break
        OutboxEvent.objects.filter(pk=row.pk).update(published_at=timezone.now(), message_id=message_id)
        sent += 1
    return sent


def outbox_flush(*, ids: list[int]) -> int:
    return _send(list(OutboxEvent.objects.filter(pk__in=ids, published_at__isnull=True).order_by("id")))


def outbox_relay(*, now=None) -> int:
    """Send what a crashed (or Redis-less) publisher left behind. Returns how many were sent."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True, created_at__lt=now - RELAY_AFTER)
            .order_by("id")[:RELAY_BATCH]
        )
        sent = _send(rows)
    OutboxEvent.objects.filter(published_at__lt=now - KEEP_PUBLISHED).delete()
    return sent
