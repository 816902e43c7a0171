"""Dead letters: replay publishes the original event again (same event id, so groups that
already handled it skip it; the group that could not handle it tries again)."""

from __future__ import annotations

import logging

import redis
from django.db import transaction
from django.utils import timezone

from sagaops.choreography.bus import DEAD, stream_key
from sagaops.choreography.models import DeadLetter
from sagaops.choreography.services.outbox import xadd
from sagaops.redis import get_redis

log = logging.getLogger(__name__)


class ReplayRefused(Exception):
    pass


def dead_letter_replay(*, dead_letter_id: int, user=None) -> str:
    """Publish a dead letter's message again on its stream; returns the new message id."""
    with transaction.atomic():
        letter = DeadLetter.objects.select_for_update().filter(pk=dead_letter_id).first()
        if letter is None:
            raise ReplayRefused(f"no dead letter {dead_letter_id}")
        if letter.replayed_at is not None:
            raise ReplayRefused(
                f"dead letter {letter.pk} was already replayed at {letter.replayed_at:%Y-%m-%d %H:%M:%S}"
            )
        message_id = xadd(letter.stream, letter.fields)
        letter.replayed_at = timezone.now()
        letter.replayed_by = user if getattr(user, "is_authenticated", False) else None
        letter.save(update_fields=["replayed_at", "replayed_by"])
    try:
        get_redis().xdel(stream_key(DEAD), letter.dead_message_id)
    except redis.RedisError:
        log.warning("could not remove dead letter %s from the dead-letter stream", letter.dead_message_id)
    return message_id
