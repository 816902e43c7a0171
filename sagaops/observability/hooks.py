"""What observability does with each committed transition: count it, log it, and raise alerts.

`transition_committed` is called by the engine's `after_commit`; it never raises into the engine.
"""

from __future__ import annotations

import logging
import time

from sagaops import dispatch
from sagaops.observability import context, metrics, tracing

log = logging.getLogger("sagaops.events")

ALERTING_EVENTS = ("saga_stuck", "compensation_failed")

_LEVELS = {
    "saga_started": logging.INFO,
    "saga_completed": logging.INFO,
    "saga_compensated": logging.INFO,
    "compensation_started": logging.WARNING,
    "step_retry_scheduled": logging.WARNING,
    "step_failed": logging.WARNING,
    "compensation_retry_scheduled": logging.WARNING,
    "compensation_failed": logging.ERROR,
    "saga_stuck": logging.ERROR,
}


def transition_written(events) -> None:
    """Stamp the running step's duration on its events when they are written, not at commit:
    a run of local steps commits once, after all of them. The events join the step's trace span."""
    tracing.record_events(events)
    bound = context.current()
    if bound.step_started is None:
        return
    for event in events:
        if event.step == bound.step and event.seconds is None:
            event.seconds = time.monotonic() - bound.step_started


def transition_committed(saga, events) -> None:
    try:
        metrics.record_events(saga, events)
    except Exception:
        log.exception("could not record the metrics of saga %s", saga.pk)
    for event in events:
        _log_event(saga, event)
        if event.kind in ALERTING_EVENTS:
            _enqueue_alert(saga, event.kind)


def _log_event(saga, event) -> None:
    level = _LEVELS.get(event.kind, logging.INFO if event.kind.startswith("operator_") else logging.DEBUG)
    if not log.isEnabledFor(level):
        return
    detail = event.detail or {}
    attempt = detail.get("attempt", context.current().attempt if event.step else None)
    why = detail.get("error") or detail.get("reason") or event.reason or ""
    with context.bound(
        saga_id=str(saga.pk),
        correlation_id=saga.correlation_id,
        step=event.step,
        attempt=attempt if event.step else None,
    ):
        log.log(
            level,
            "%s %s%s%s",
            saga.type,
            event.kind,
            f" {event.step}" if event.step else "",
            f": {why}" if why else "",
            extra={"event": event.kind, "saga_type": saga.type, "saga_status": saga.status, "version": saga.version},
        )


def _enqueue_alert(saga, kind: str) -> None:
    """A missed enqueue (broker down) is caught up by the periodic alert check."""
    try:
        dispatch.task(dispatch.ALERT_SAGA).delay(str(saga.pk), kind)
    except Exception:
        log.warning("could not enqueue the %s alert of saga %s; the alert check will", kind, saga.pk, exc_info=True)
