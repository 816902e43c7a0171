"""What an alert says: an email subject and body, and the webhook's JSON document."""

from __future__ import annotations

from django.utils import timezone

from sagaops.conf import conf

DIGEST_LISTED = 50
DIGEST_DOCUMENTED = 500

_TITLES = {
    "saga_stuck": "saga stuck",
    "compensation_failed": "compensation failed",
    "stuck_count_over": "too many sagas need attention",
    "timer_backlog_over": "timer backlog",
    "no_worker": "no Celery worker alive",
    "tick_lag_over": "timer tick late",
}


def console_base() -> str:
    return conf.SAGAOPS_CONSOLE_URL.rstrip("/")


def saga_link(saga_id) -> str:
    return f"{console_base()}/admin/sagaops/saga/{saga_id}/change/"


def saga_summary(saga) -> dict:
    return {
        "id": str(saga.pk),
        "type": saga.type,
        "status": saga.status,
        "current_step": saga.current_step,
        "correlation_id": saga.correlation_id,
        "reason": saga.attention_reason or saga.last_error,
        "url": saga_link(saga.pk),
    }


def _document(rule, kind: str, **fields) -> dict:
    return {"kind": kind, "rule": rule.name, "at": timezone.now().isoformat(), **fields}


def saga_alert(rule, saga, kind: str) -> dict:
    summary = saga_summary(saga)
    subject = f"[sagaops] {_TITLES.get(kind, kind)}: {saga.type} {saga.pk}"
    body = "\n".join(
        [
            f"Saga {saga.pk} ({saga.type}) is {saga.status}.",
            f"Why: {summary['reason'] or 'unknown'}",
            f"Correlation id: {saga.correlation_id or '-'}",
            "",
            f"Open it in the console: {summary['url']}",
            "",
            f"Alert rule: {rule.name}",
        ]
    )
    return {"subject": subject, "body": body, "link": summary["url"], "document": _document(rule, kind, saga=summary)}


def digest(rule, alerts: list) -> dict:
    """One message for many alerts held back by the rate limit."""
    lines = [f"- {a.payload.get('subject', a.kind)}\n  {a.payload.get('link', '')}" for a in alerts[:DIGEST_LISTED]]
    if len(alerts) > DIGEST_LISTED:
        lines.append(f"... and {len(alerts) - DIGEST_LISTED} more: {console_base()}/admin/observability/alertsent/")
    body = "\n".join(
        [
            f"{len(alerts)} more alerts for rule {rule.name} arrived faster than the rate limit "
            f"({conf.SAGAOPS_ALERT_RATE_LIMIT} per {conf.SAGAOPS_ALERT_RATE_WINDOW} s):",
            "",
            *lines,
            "",
            f"Stuck sagas: {console_base()}/admin/sagaops/saga/?status__exact=stuck",
        ]
    )
    listed = [
        {"kind": a.kind, "saga": a.payload.get("document", {}).get("saga", {"id": str(a.saga_id)})}
        for a in alerts[:DIGEST_DOCUMENTED]
    ]
    return {
        "subject": f"[sagaops] digest: {len(alerts)} alerts ({rule.name})",
        "body": body,
        "link": f"{console_base()}/admin/sagaops/saga/?status__exact=stuck",
        "document": _document(rule, "digest", count=len(alerts), alerts=listed),
    }


def threshold_alert(rule, value: float) -> dict:
    unit = {"timer_backlog_over": "s", "no_worker": "s", "tick_lag_over": "s"}.get(rule.kind, " sagas")
    health = rule.kind in ("no_worker", "tick_lag_over")
    page = "dashboard/#system-health" if health else "?status__exact=stuck"
    link = f"{console_base()}/admin/sagaops/saga/{page}"
    subject = f"[sagaops] {_TITLES.get(rule.kind, rule.kind)}: {value:g}{unit} (threshold {rule.threshold}{unit})"
    what = {
        "stuck_count_over": f"{value:g} sagas are stuck or have made no progress for "
        f"{conf.SAGAOPS_STUCK_AFTER} s (threshold {rule.threshold}).",
        "timer_backlog_over": f"The oldest due timer is {value:g} s late (threshold {rule.threshold} s): "
        "are the beat and the workers running?",
        "no_worker": f"No Celery worker has sent a heartbeat for {value:.0f} s: nothing executes saga steps. "
        "Start a worker (celery -A <project> worker) and check its log.",
        "tick_lag_over": f"The timer tick last ran {value:.0f} s ago: retries, leases and deadlines do not fire. "
        "Check that celery beat is running.",
    }[rule.kind]
    body = f"{what}\n\nConsole: {link}\n\nAlert rule: {rule.name}"
    return {
        "subject": subject,
        "body": body,
        "link": link,
        "document": _document(rule, rule.kind, value=value, threshold=rule.threshold, url=link),
    }


def hold_alert(rule, hold) -> dict:
    link = f"{console_base()}/admin/sagaops/saga/holds/"
    subject = f"[sagaops] circuit breaker tripped: {hold.target} is held"
    body = "\n".join(
        [
            f"Sagas reaching {hold.target} now wait (hold #{hold.pk}) instead of burning their retries.",
            f"Why: {hold.reason}",
            "",
            f"Release it when the participant is back: {link}",
            "",
            f"Alert rule: {rule.name}",
        ]
    )
    hold_doc = {"id": hold.pk, "target": hold.target, "reason": hold.reason, "url": link}
    return {
        "subject": subject,
        "body": body,
        "link": link,
        "document": _document(rule, "breaker_tripped", hold=hold_doc),
    }


def version_alert(rule, version: dict) -> dict:
    link = f"{console_base()}/api/saga-types/"
    name = f"{version['type']} v{version['version']}"
    active = sum(n for status, n in version["in_flight"].items() if status != "stuck")
    subject = f"[sagaops] no live worker knows {name}"
    body = "\n".join(
        [
            f"{active} active saga(s) of {name} wait: no live worker has registered that definition.",
            "Deploy (or keep running) a worker whose code still registers this version.",
            "",
            f"Versions and workers: {link}",
            "",
            f"Alert rule: {rule.name}",
        ]
    )
    document = _document(rule, "version_unserved", saga_type=version["type"], version=version["version"], active=active)
    return {"subject": subject, "body": body, "link": link, "document": document}
