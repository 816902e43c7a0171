"""Raising and delivering alerts. Each alert is an AlertSent row per channel, written before it is sent.

Deduplication is the row's unique (rule, channel, dedupe key): a saga gets one alert per kind.
Rate limit: past SAGAOPS_ALERT_RATE_LIMIT alerts per rule and channel within
SAGAOPS_ALERT_RATE_WINDOW seconds, new alerts are held and the periodic check sends them as one
digest (at most one digest per window).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from sagaops import dispatch, mirror
from sagaops.conf import conf
from sagaops.console import health
from sagaops.models import Hold, Saga, SagaStep
from sagaops.observability import metrics
from sagaops.observability.alerts import channels, messages
from sagaops.observability.models import AlertRule, AlertSent
from sagaops.saga_types import saga_type_versions
from sagaops.states import SagaStatus, StepStatus

log = logging.getLogger(__name__)

Kind, Status = AlertRule.Kind, AlertSent.Status
DIGEST = "digest"
CATCH_UP_LIMIT = 500


def _enqueue(alert_id: int) -> None:
    transaction.on_commit(lambda: dispatch.task(dispatch.DELIVER_ALERT).delay(alert_id))


def _over_rate(rule: AlertRule, channel: str, now) -> bool:
    since = now - timedelta(seconds=conf.SAGAOPS_ALERT_RATE_WINDOW)
    recent = AlertSent.objects.filter(rule=rule, channel=channel, created_at__gte=since).exclude(kind=DIGEST)
    recent = recent.filter(status__in=(Status.PENDING, Status.SENT, Status.FAILED))
    return recent.count() >= conf.SAGAOPS_ALERT_RATE_LIMIT


def _record(rule: AlertRule, channel: str, *, kind: str, dedupe_key: str, payload: dict, saga=None, limit=True):
    """Write the alert row (None if this alert was already raised) and enqueue its delivery."""
    now = timezone.now()
    held = limit and _over_rate(rule, channel, now)
    try:
        with transaction.atomic():
            alert = AlertSent.objects.create(
                rule=rule,
                saga=saga,
                kind=kind,
                dedupe_key=dedupe_key,
                channel=channel,
                status=Status.HELD if held else Status.PENDING,
                payload=payload,
            )
    except IntegrityError:
        return None
    if not held:
        _enqueue(alert.pk)
    return alert


def rules_for(kind: str, saga_type: str | None = None):
    rules = AlertRule.objects.filter(enabled=True, kind=kind)
    if saga_type is not None:
        rules = rules.filter(Q(saga_type="") | Q(saga_type=saga_type))
    return rules


def alerts_for_saga(*, saga_id, kind: str) -> list[AlertSent]:
    """A saga became stuck or a compensation failed: alert every matching rule, once per saga."""
    saga = Saga.objects.filter(pk=saga_id).first()
    if saga is None:
        return []
    raised = []
    for rule in rules_for(kind, saga.type):
        payload = messages.saga_alert(rule, saga, kind)
        for channel in rule.channels:
            alert = _record(rule, channel, kind=kind, dedupe_key=f"{kind}:{saga.pk}", payload=payload, saga=saga)
            if alert is not None:
                raised.append(alert)
    return raised


def alerts_for_hold(*, hold_id: int) -> list[AlertSent]:
    """A circuit breaker held a step: alert every breaker rule (of the step's saga type), once per hold."""
    hold = Hold.objects.filter(pk=hold_id).first()
    if hold is None:
        return []
    raised = []
    for rule in rules_for(Kind.BREAKER_TRIPPED, hold.saga_type or None):
        payload = messages.hold_alert(rule, hold)
        for channel in rule.channels:
            alert = _record(rule, channel, kind=Kind.BREAKER_TRIPPED, dedupe_key=f"hold:{hold.pk}", payload=payload)
            if alert is not None:
                raised.append(alert)
    return raised


def _retry_delay(attempts: int) -> float:
    return min(conf.SAGAOPS_ALERT_RETRY_DELAY * 2 ** (attempts - 1), 600.0)


def alert_deliver(*, alert_id: int) -> float | None:
    """Send one alert. Returns the seconds to wait before trying again, or None when done
    (sent, nothing to do, or failed for good after SAGAOPS_ALERT_MAX_ATTEMPTS tries)."""
    alert = AlertSent.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is None or alert.status != Status.PENDING:
        return None
    attempts = alert.attempts + 1
    try:
        _send(alert)
    except channels.DeliveryFailed as error:
        final = attempts >= conf.SAGAOPS_ALERT_MAX_ATTEMPTS
        status = Status.FAILED if final else Status.PENDING
        AlertSent.objects.filter(pk=alert.pk).update(attempts=attempts, error=str(error)[:2000], status=status)
        log.warning("alert %s (%s via %s) attempt %s failed: %s", alert.pk, alert.kind, alert.channel, attempts, error)
        if final:
            metrics.alerts.labels(alert.kind, alert.channel, "failed").inc()
            return None
        return _retry_delay(attempts)
    AlertSent.objects.filter(pk=alert.pk).update(
        attempts=attempts, status=Status.SENT, sent_at=timezone.now(), error=""
    )
    metrics.alerts.labels(alert.kind, alert.channel, "sent").inc()
    log.info("alert %s (%s) sent via %s", alert.pk, alert.kind, alert.channel)
    return None


def _send(alert: AlertSent) -> None:
    rule, payload = alert.rule, alert.payload
    if alert.channel == AlertSent.Channel.EMAIL:
        channels.send_email(recipients=rule.recipients, subject=payload["subject"], body=payload["body"])
    else:
        channels.send_webhook(
            url=rule.webhook_url, secret=rule.webhook_secret, document=payload["document"], delivery=str(alert.pk)
        )


# --- the periodic check (beat) ---


def digests_send(*, now=None) -> int:
    """One digest per rule and channel for the alerts the rate limit held, at most one per window."""
    now = now or timezone.now()
    since = now - timedelta(seconds=conf.SAGAOPS_ALERT_RATE_WINDOW)
    sent = 0
    pairs = AlertSent.objects.filter(status=Status.HELD).values_list("rule_id", "channel").distinct()
    for rule_id, channel in list(pairs):
        if AlertSent.objects.filter(rule_id=rule_id, channel=channel, kind=DIGEST, created_at__gte=since).exists():
            continue
        with transaction.atomic():
            held = list(
                AlertSent.objects.select_for_update(skip_locked=True)
                .filter(rule_id=rule_id, channel=channel, status=Status.HELD)
                .order_by("id")
            )
            if not held:
                continue
            rule = AlertRule.objects.get(pk=rule_id)
            digest = _record(
                rule,
                channel,
                kind=DIGEST,
                dedupe_key=f"digest:{held[0].pk}-{held[-1].pk}",
                payload=messages.digest(rule, held),
                limit=False,
            )
            AlertSent.objects.filter(pk__in=[a.pk for a in held]).update(status=Status.DIGESTED, digest=digest)
        sent += 1
    return sent


HEALTH_MEASURES = {
    Kind.NO_WORKER: health.seconds_without_worker,
    Kind.TICK_LAG_OVER: health.tick_lag,
}


def _measure(kind: str) -> float | None:
    if kind == Kind.STUCK_COUNT_OVER:
        return float(sum(row[3] for row in metrics.saga_states()))
    if kind in HEALTH_MEASURES:
        try:
            return HEALTH_MEASURES[kind]()
        except redis.RedisError:
            log.warning("alert check: %s could not be measured", kind, exc_info=True)
            return None
    try:
        return mirror.timer_backlog()[1] or 0.0
    except Exception:
        log.warning("alert check: the timer backlog could not be read", exc_info=True)
        return None


def thresholds_check(*, now=None) -> int:
    """Threshold rules fire once when their condition starts holding, and re-arm once it clears."""
    now = now or timezone.now()
    fired, measured = 0, {}
    for rule in AlertRule.objects.filter(enabled=True, kind__in=AlertRule.THRESHOLD):
        if not rule.channels:
            continue  # nobody to tell (a default rule before ADMINS is set)
        if rule.kind not in measured:
            measured[rule.kind] = _measure(rule.kind)
        value = measured[rule.kind]
        if value is None:
            continue
        if value <= rule.threshold:
            if rule.firing_since is not None:
                AlertRule.objects.filter(pk=rule.pk).update(firing_since=None)
            continue
        if rule.firing_since is not None:
            continue
        # Only one concurrent check wins the rule's episode.
        if not AlertRule.objects.filter(pk=rule.pk, firing_since__isnull=True).update(firing_since=now):
            continue
        payload = messages.threshold_alert(rule, value)
        for channel in rule.channels:
            key = f"{rule.kind}:{now.isoformat()}"
            _record(rule, channel, kind=rule.kind, dedupe_key=key, payload=payload, limit=False)
        fired += 1
    return fired


def alerts_catch_up(*, now=None) -> int:
    """Alert stuck sagas whose alert was never raised (say the broker was down when they stuck)."""
    now = now or timezone.now()
    since = now - timedelta(hours=conf.SAGAOPS_ALERT_CATCH_UP_HOURS)
    raised = 0
    for rule in AlertRule.objects.filter(enabled=True, kind__in=AlertRule.PER_SAGA):
        sagas = Saga.objects.filter(status=SagaStatus.STUCK, updated_at__gte=since)
        if rule.saga_type:
            sagas = sagas.filter(type=rule.saga_type)
        if rule.kind == Kind.COMPENSATION_FAILED:
            failed = SagaStep.objects.filter(saga=OuterRef("pk"), status=StepStatus.COMPENSATION_FAILED)
            sagas = sagas.filter(Exists(failed))
        alerted = AlertSent.objects.filter(rule=rule, saga=OuterRef("pk"), kind=rule.kind)
        for saga_id in sagas.exclude(Exists(alerted)).values_list("pk", flat=True)[:CATCH_UP_LIMIT]:
            raised += len(alerts_for_saga(saga_id=saga_id, kind=rule.kind))
    return raised


def versions_check(*, now=None) -> int:
    """Alert every version_unserved rule about each version with active sagas that no live worker
    knows: at most once a day per version (the dedupe key carries the date)."""
    now = now or timezone.now()
    rules = list(rules_for(Kind.VERSION_UNSERVED))
    if not rules:
        return 0
    raised = 0
    for version in saga_type_versions():
        if not version["unserved"]:
            continue
        log.error("saga type %s v%s has active sagas and no live worker knows it", version["type"], version["version"])
        for rule in rules:
            if rule.saga_type and rule.saga_type != version["type"]:
                continue
            payload = messages.version_alert(rule, version)
            key = f"version:{version['type']}:{version['version']}:{now:%Y-%m-%d}"
            for channel in rule.channels:
                raised += (
                    _record(rule, channel, kind=Kind.VERSION_UNSERVED, dedupe_key=key, payload=payload) is not None
                )
    return raised


def alerts_check() -> dict[str, int]:
    return {
        "digests": digests_send(),
        "thresholds": thresholds_check(),
        "caught_up": alerts_catch_up(),
        "versions": versions_check(),
    }
