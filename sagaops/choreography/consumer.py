"""One consumer of one group: XREADGROUP, the handler in one transaction with its ProcessedEvent,
XACK; XAUTOCLAIM of entries a dead consumer left idle; the dead-letter stream after too many
deliveries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from django.db import IntegrityError, close_old_connections, transaction

from sagaops.choreography import bus
from sagaops.choreography.bus import BusEvent
from sagaops.choreography.models import DeadLetter, ProcessedEvent
from sagaops.choreography.services.outbox import xadd
from sagaops.conf import conf
from sagaops.exceptions import ConcurrentUpdate
from sagaops.keys import errors_key, stream_key
from sagaops.redis import get_redis

log = logging.getLogger("sagaops.choreography.consumer")

READ_COUNT = 20
CONFLICT_RETRIES = 5


class Consumer:
    def __init__(
        self, group: str, name: str, *, stop: threading.Event, block_ms: int = 1000, tick: Callable | None = None
    ):
        self.group = group
        self.name = name
        self.stop = stop
        self.block_ms = block_ms
        self.tick = tick  # the group's periodic work (the supervisor's timers)
        self.streams = bus.streams_of(group)
        self.idle_ms = conf.SAGAOPS_STREAM_CLAIM_IDLE_MS
        self.max_deliveries = conf.SAGAOPS_STREAM_MAX_DELIVERIES
        self.next_claim = 0.0
        self.r = get_redis()

    # --- setup ---

    def ensure_groups(self) -> None:
        for stream in self.streams:
            try:
                # From the start of the stream: events published before the group existed are handled too.
                self.r.xgroup_create(stream_key(stream), self.group, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    # --- the loop ---

    def run(self) -> None:
        log.info("consumer %s of group %s reading %s", self.name, self.group, ", ".join(self.streams))
        ready = False
        while not self.stop.is_set():
            close_old_connections()
            try:
                if not ready:
                    self.ensure_groups()
                    ready = True
                self.run_once()
            except redis.ResponseError as error:
                # NOGROUP: the stream or group vanished (Redis flushed or restarted empty): recreate it.
                log.warning("consumer %s/%s: %s; recreating the groups", self.group, self.name, error)
                ready = False
                self.stop.wait(0.2)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                log.error("consumer %s/%s: Redis unavailable (%s); retrying in 1s", self.group, self.name, error)
                ready = False
                self.stop.wait(1)
            except Exception as error:  # the database went away, a bug in a tick: one line, go on
                log.error("consumer %s/%s: %s: %s", self.group, self.name, type(error).__name__, error)
                self.stop.wait(1)
        close_old_connections()
        log.info("consumer %s of group %s stopped", self.name, self.group)

    def run_once(self) -> None:
        if time.monotonic() >= self.next_claim:
            self.claim_idle()
            self.next_claim = time.monotonic() + max(self.idle_ms / 2000, 0.2)
        if self.tick is not None:
            self.tick()
        answer = self.r.xreadgroup(
            self.group, self.name, {stream_key(s): ">" for s in self.streams}, count=READ_COUNT, block=self.block_ms
        )
        for key, entries in answer or []:
            for message_id, fields in entries:
                if self.stop.is_set():
                    return  # not acked: another consumer (or this one, restarted) claims it
                self.deliver(self._stream_name(key), message_id, fields, deliveries=1)

    def _stream_name(self, key: str) -> str:
        return key.removeprefix(conf.SAGAOPS_STREAM_PREFIX)

    # --- claiming a dead consumer's entries ---

    def claim_idle(self) -> None:
        for stream in self.streams:
            key = stream_key(stream)
            _, claimed, deleted = self.r.xautoclaim(key, self.group, self.name, min_idle_time=self.idle_ms, count=50)
            for message_id in deleted or []:
                self.r.xack(key, self.group, message_id)  # trimmed away before anyone handled it
            for message_id, fields in claimed:
                if fields is None:
                    self.r.xack(key, self.group, message_id)
                    continue
                info = self.r.xpending_range(key, self.group, min=message_id, max=message_id, count=1)
                deliveries = info[0]["times_delivered"] if info else 1
                log.info("consumer %s/%s claimed %s (delivery %d)", self.group, self.name, message_id, deliveries)
                if deliveries > self.max_deliveries:
                    self.dead_letter(stream, message_id, fields, deliveries, self._last_error(message_id))
                    continue
                self.deliver(stream, message_id, fields, deliveries=deliveries)

    # --- one message ---

    def deliver(self, stream: str, message_id: str, fields: dict, *, deliveries: int) -> None:
        try:
            event = BusEvent.from_fields(fields, stream=stream, message_id=message_id)
        except ValueError as error:
            self.dead_letter(stream, message_id, fields, deliveries, str(error))
            return
        handler = bus.handler_for(self.group, stream, event.type)
        if handler is not None:
            try:
                self.process(handler, event, deliveries)
            except Exception as error:
                text = f"{type(error).__name__}: {error}"
                log.error(
                    "consumer %s/%s: %s %s failed (delivery %d): %s",
                    self.group, self.name, event.type, message_id, deliveries, text,
                )  # fmt: skip
                if deliveries >= self.max_deliveries:
                    self.dead_letter(stream, message_id, fields, deliveries, text)
                else:
                    self.r.hset(errors_key(self.group), message_id, text[:2000])
                return  # pending: redelivered to whoever claims it after the idle time
        self.r.xack(stream_key(stream), self.group, message_id)
        self.r.hdel(errors_key(self.group), message_id)

    def process(self, handler: bus.Handler, event: BusEvent, deliveries: int) -> bool:
        """Run the handler once per (group, event id); False if it was already handled."""
        for attempt in range(CONFLICT_RETRIES):
            try:
                with transaction.atomic():
                    try:
                        with transaction.atomic():
                            ProcessedEvent.objects.create(
                                group=self.group,
                                event_id=event.event_id,
                                event_type=event.type[:100],
                                correlation_id=event.correlation_id[:200],
                                message_id=event.message_id,
                                consumer=self.name[:200],
                                deliveries=deliveries,
                            )
                    except IntegrityError:
                        return False  # a redelivery of an event this group already handled
                    handler.fn(event)
                return True
            except ConcurrentUpdate:
                # Someone else moved the saga (the overdue check, an operator): read it again.
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        return False

    def _last_error(self, message_id: str) -> str:
        return self.r.hget(errors_key(self.group), message_id) or "delivered too many times"

    def dead_letter(self, stream: str, message_id: str, fields: dict, deliveries: int, error: str) -> None:
        dead_fields = {**fields, "dead_group": self.group, "dead_stream": stream, "dead_message_id": message_id}
        dead_fields.update(deliveries=str(deliveries), error=error[:2000])
        dead_id = xadd(bus.DEAD, dead_fields)
        DeadLetter.objects.get_or_create(
            group=self.group,
            stream=stream,
            message_id=message_id,
            defaults={
                "dead_message_id": dead_id,
                "event_id": fields.get("event_id", "")[:64],
                "event_type": fields.get("type", "")[:100],
                "correlation_id": fields.get("correlation_id", "")[:200],
                "fields": fields,
                "deliveries": deliveries,
                "error": error[:4000],
            },
        )
        self.r.xack(stream_key(stream), self.group, message_id)
        self.r.hdel(errors_key(self.group), message_id)
        log.error("consumer %s/%s: %s dead-lettered after %d delivery(ies): %s", self.group, self.name,
                  message_id, deliveries, error)  # fmt: skip
