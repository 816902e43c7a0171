"""Log records that carry the saga's ids, as readable lines or as JSON (LOG_FORMAT=json).

Configured by settings.LOGGING for Django, gunicorn and Celery alike (project/celery.py hands
Celery's logging setup to `configure_celery_logging`, so the worker's lines carry the ids too).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from sagaops.observability import context

CONTEXT_FIELDS = ("saga_id", "correlation_id", "step", "attempt")
# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", *CONTEXT_FIELDS}


class SagaContextFilter(logging.Filter):
    """Adds saga_id, correlation_id, step and attempt to every record (empty when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = context.current()
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) in (None, ""):
                setattr(record, name, getattr(bound, name))
        return True


def _ids(record: logging.LogRecord) -> dict:
    ids = {name: getattr(record, name, None) for name in CONTEXT_FIELDS}
    if not any(ids.values()):
        # A handler without the filter: take the ids from the context directly.
        bound = context.current()
        ids = {name: getattr(bound, name) for name in CONTEXT_FIELDS}
    return {name: value for name, value in ids.items() if value not in (None, "")}


class PlainFormatter(logging.Formatter):
    """`<time> <level> <logger> [saga=… corr=… step=… attempt=…] <message>`; the brackets only when known."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, **kwargs) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s %(ids)s%(message)s", datefmt, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        ids = _ids(record)
        names = {"saga_id": "saga", "correlation_id": "corr", "step": "step", "attempt": "attempt"}
        record.ids = ("[" + " ".join(f"{names[k]}={v}" for k, v in ids.items()) + "] ") if ids else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the saga's ids, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_ids(record),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key != "ids":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def configure_celery_logging(loglevel=None, **kwargs) -> None:
    """Celery's `setup_logging` signal: use settings.LOGGING instead of Celery's own handlers."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
