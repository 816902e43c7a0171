"""The circuit breaker: count each remote step's attempts in Redis, and hold the step when its
transient failures spike (`sagaops.rules.breaker_trips` decides, with the step's BreakerPolicy).

The counts are a HASH per step, one field per second and outcome, kept for the policy's window:
Redis holds nothing here that matters after the window, so losing it only forgets a burst. A
trip places a hold (source "breaker") and raises a `breaker_tripped` alert; if the step's hold is
being released, a trip stops that release (the outage is not over). Local steps are not counted:
their transient errors are this database's, not a participant's.
"""

from __future__ import annotations

import logging
import time

import redis
from django.db import transaction

from sagaops import rules
from sagaops.definitions import SagaDefinition, Step
from sagaops.exceptions import ActionRefused
from sagaops.keys import breaker_key
from sagaops.models import Hold
from sagaops.observability.alerts.services import alerts_for_hold
from sagaops.services.breaker_counts import breaker_count
from sagaops.services.holds import hold_place

log = logging.getLogger(__name__)


def breaker_record(definition: SagaDefinition, spec: Step, *, failed: bool) -> None:
    """Count one attempt's outcome; on a transient failure, trip the breaker if the window says so.
    Never raises into the executor: a breaker that cannot count does not stop the saga."""
    policy = spec.breaker
    if policy is None or spec.kind == "local":
        return
    try:
        buckets = breaker_count(breaker_key(definition.name, spec.name), failed=failed, window=policy.window)
    except redis.RedisError:
        log.warning("could not count an attempt of %s:%s for its circuit breaker", definition.name, spec.name)
        return
    if buckets is not None and rules.breaker_trips(buckets, policy, now=time.time()):
        breaker_trip(definition, spec, rules.breaker_reason(buckets, policy, now=time.time()))


def breaker_trip(definition: SagaDefinition, spec: Step, reason: str) -> Hold | None:
    """Hold the step (or stop its release); None if it was held already."""
    try:
        hold = hold_place(user=None, reason=reason, saga_type=definition.name, step=spec.name, source="breaker")
    except ActionRefused:
        stopped = Hold.objects.filter(
            saga_type=definition.name, step=spec.name, participant="", status=Hold.Status.RELEASING
        ).update(status=Hold.Status.ACTIVE, next_tick_at=None)
        if not stopped:
            return None
        hold = Hold.objects.filter(saga_type=definition.name, step=spec.name, status=Hold.Status.ACTIVE).first()
        log.error("circuit breaker of %s:%s tripped during its release: the release stopped", *_names(hold))
    else:
        log.error("circuit breaker of %s:%s tripped (%s): the step is held", definition.name, spec.name, reason)
    if hold is not None:
        transaction.on_commit(lambda: _alert(hold.pk))
    return hold


def _names(hold: Hold | None) -> tuple[str, str]:
    return (hold.saga_type, hold.step) if hold is not None else ("?", "?")


def _alert(hold_id: int) -> None:
    try:
        alerts_for_hold(hold_id=hold_id)
    except Exception:
        log.exception("could not raise the alert of hold #%s", hold_id)
