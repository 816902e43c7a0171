"""Consume the event bus: `manage.py sagaops_consume all` or `sagaops_consume inventory,payments`.

Long-running; SIGTERM or Ctrl-C stops it after the message in hand (an unacknowledged one is
claimed by another consumer after SAGAOPS_STREAM_CLAIM_IDLE_MS). Every process also relays the
outbox: events whose publisher could not send them after its commit.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading

import redis
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from sagaops.choreography import bus
from sagaops.choreography.consumer import Consumer
from sagaops.choreography.services.outbox import outbox_relay
from sagaops.choreography.services.supervisor import SUPERVISOR, supervisor_tick

log = logging.getLogger("sagaops.choreography.consumer")

RELAY_EVERY = 1.0


class Command(BaseCommand):
    help = "Consume the Redis Streams event bus for one consumer group, several (a,b) or all."

    def add_arguments(self, parser):
        parser.add_argument("group", help=f"'all' or comma-separated groups: {', '.join(bus.groups())}")
        parser.add_argument("--name", default="", help="consumer name (default: <host>-<pid>)")
        parser.add_argument("--block-ms", type=int, default=1000, help="how long one XREADGROUP waits")

    def handle(self, *args, group: str, name: str, block_ms: int, **options):
        groups = self._groups(group)
        name = name or f"{socket.gethostname()}-{os.getpid()}"
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        threads = [
            threading.Thread(
                target=Consumer(
                    g, name, stop=stop, block_ms=block_ms, tick=supervisor_tick if g == SUPERVISOR else None
                ).run,
                name=f"consume-{g}",
                daemon=True,
            )
            for g in groups
        ]
        for thread in threads:
            thread.start()
        self.stdout.write(f"sagaops_consume: consuming {', '.join(groups)} as {name}")
        sys.stdout.flush()
        while not stop.wait(RELAY_EVERY):
            self._relay()
            if not any(t.is_alive() for t in threads):
                raise CommandError("every consumer thread stopped")
        for thread in threads:
            thread.join(timeout=30)
        self.stdout.write("sagaops_consume: stopped")

    def _groups(self, group: str) -> list[str]:
        known = bus.groups()
        wanted = known if group == "all" else [g.strip() for g in group.split(",") if g.strip()]
        unknown = [g for g in wanted if g not in known]
        if unknown or not wanted:
            raise CommandError(f"unknown group(s) {', '.join(unknown) or group!r}; known: {', '.join(known)}")
        return wanted

    def _relay(self) -> None:
        close_old_connections()
        try:
            outbox_relay()
        except redis.RedisError as error:
            log.error("outbox relay: Redis unavailable: %s", error)
        except Exception as error:  # the database went away: one line, try again next time
            log.error("outbox relay: %s: %s", type(error).__name__, error)
