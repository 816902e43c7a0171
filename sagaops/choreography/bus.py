"""The event bus on Redis Streams: the public API for the domain apps.

    from sagaops.choreography.bus import BusEvent, command, handles, publish, report_failure

    @handles("OrderCreated", group="inventory")
    def reserve_stock(event: BusEvent) -> None:
        ...
        event.follow("StockReserved", {...}, source="inventory")

    @command("inventory.release", group="inventory")
    def release_stock(event: BusEvent) -> dict:  # acknowledged with CommandDone / CommandFailed
        ...

A handler runs in one database transaction with the record that its group handled the event
(`ProcessedEvent`), so a redelivered event is skipped; what it publishes is written to the outbox
in that transaction and sent after commit. Domain apps import only this module and `flows`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from sagaops.choreography.services.outbox import outbox_add
from sagaops.keys import stream_key  # noqa: F401  (part of the bus's public names)

EVENTS = "events"
REPORTS = "reports"
DEAD = "dead"
ANY = "*"

# The supervisor's vocabulary (see services/supervisor.py).
FAILURE_REPORTED = "FailureReported"
COMMAND_DONE = "CommandDone"
COMMAND_FAILED = "CommandFailed"


class MissingField(ValueError):
    """An event or command lacks what its handler needs: a command refuses it (CommandFailed)."""


def error_code(error: BaseException) -> str:
    """A business error's report code: OutOfStock -> "out_of_stock"."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in type(error).__name__).lstrip("_")


@dataclass(frozen=True)
class BusEvent:
    type: str
    correlation_id: str
    payload: dict[str, Any]
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    source: str = ""
    stream: str = EVENTS
    message_id: str = ""  # set when consumed
    at: str = ""

    def to_fields(self) -> dict[str, str]:
        return {
            "type": self.type,
            "event_id": self.event_id,
            "correlation_id": self.correlation_id,
            "source": self.source,
            "at": self.at or timezone.now().isoformat(),
            "payload": json.dumps(self.payload, cls=DjangoJSONEncoder),
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str], *, stream: str, message_id: str) -> BusEvent:
        """Raises ValueError for a message that is not one of ours (a poison message)."""
        try:
            payload = json.loads(fields["payload"])
            event = cls(
                type=fields["type"],
                event_id=fields["event_id"],
                correlation_id=fields.get("correlation_id", ""),
                payload=payload,
                source=fields.get("source", ""),
                stream=stream,
                message_id=message_id,
                at=fields.get("at", ""),
            )
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise ValueError(f"malformed message {message_id}: {error!r}") from None
        if not isinstance(payload, dict) or not event.type or not event.event_id:
            raise ValueError(f"malformed message {message_id}: no type, event id or payload object")
        return event

    def require(self, *names: str, subject: bool = False) -> list[Any]:
        """The values of `names` in the payload (or a command's subject); MissingField if absent."""
        source = self.subject if subject else self.payload
        missing = [n for n in names if source.get(n) in (None, "")]
        if missing:
            raise MissingField(f"{self.type} {self.event_id} has no {', '.join(missing)}")
        return [source[n] for n in names]

    @property
    def subject(self) -> dict[str, Any]:
        """A command's subject: the saga payload and report detail it acts on."""
        return self.payload.get("subject", {})

    def follow(self, event_type: str, payload: dict[str, Any], *, source: str = "") -> BusEvent:
        """Publish the next event of the same conversation (same correlation id)."""
        return publish(event_type, correlation_id=self.correlation_id, payload=payload, source=source)


def publish(
    event_type: str, *, correlation_id: str, payload: dict[str, Any], source: str = "", stream: str = EVENTS
) -> BusEvent:
    """Publish after the current transaction commits (at once outside one). Returns the event."""
    event = BusEvent(type=event_type, correlation_id=correlation_id, payload=payload, source=source, stream=stream)
    outbox_add(event)
    return event


def report_failure(*, service: str, code: str, correlation_id: str, detail: dict[str, Any]) -> BusEvent:
    """Tell the supervisor that `service` failed with `code`; its rules decide what to undo."""
    payload = {"service": service, "code": code, "detail": detail}
    return publish(FAILURE_REPORTED, correlation_id=correlation_id, payload=payload, source=service, stream=REPORTS)


# --- handler registry ---


@dataclass(frozen=True)
class Handler:
    group: str
    stream: str
    event_type: str
    fn: Callable[[BusEvent], Any]


_handlers: dict[tuple[str, str, str], Handler] = {}
_commands: dict[str, str] = {}  # command -> group


def handles(*event_types: str, group: str, stream: str = EVENTS) -> Callable:
    """Register `fn(event)` as `group`'s handler of `event_types` (ANY: every event of the stream)."""

    def register(fn: Callable[[BusEvent], Any]) -> Callable[[BusEvent], Any]:
        for event_type in event_types:
            _handlers[(group, stream, event_type)] = Handler(group, stream, event_type, fn)
        return fn

    return register


def command(name: str, *, group: str, refusals: tuple[type[BaseException], ...] = ()) -> Callable:
    """Register a command handler; it is acknowledged to the supervisor with CommandDone, or with
    CommandFailed when it raises one of `refusals` (the supervisor retries, then gives up). Any other
    exception leaves the message pending, to be redelivered."""

    def register(fn: Callable[[BusEvent], dict | None]) -> Callable[[BusEvent], dict | None]:
        def acknowledged(event: BusEvent) -> None:
            ack = {"request_id": event.payload.get("request_id"), "command": name}
            ack["attempt"] = event.payload.get("attempt")
            try:
                result = fn(event)
            except (MissingField, *refusals) as error:
                event.follow(
                    COMMAND_FAILED, {**ack, "error": str(error), "error_type": type(error).__name__}, source=group
                )
                return
            event.follow(COMMAND_DONE, {**ack, "result": result or {}}, source=group)

        _commands[name] = group
        handles(name, group=group)(acknowledged)
        return fn

    return register


def handler_for(group: str, stream: str, event_type: str) -> Handler | None:
    return _handlers.get((group, stream, event_type)) or _handlers.get((group, stream, ANY))


def groups() -> list[str]:
    return sorted({h.group for h in _handlers.values()})


def streams_of(group: str) -> list[str]:
    return sorted({h.stream for h in _handlers.values() if h.group == group})


def commands() -> list[str]:
    """Every command some service executes: what a rule may request."""
    return sorted(_commands)
