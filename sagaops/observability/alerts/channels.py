"""Delivering an alert: email through Django's email framework, or a signed JSON webhook.

A webhook carries `X-Sagaops-Timestamp: <unix seconds>` and `X-Sagaops-Signature: sha256=<hex
HMAC-SHA256 of "<timestamp>." + body>`. The timestamp is inside the signature, so a receiver
that refuses a timestamp older than a few minutes cannot be fed a recorded delivery again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage

from sagaops.conf import conf
from sagaops.observability.alerts.targets import target_problem

SIGNATURE_HEADER = "X-Sagaops-Signature"
TIMESTAMP_HEADER = "X-Sagaops-Timestamp"
# What a receiver should accept (and what signature_valid checks): five minutes either way.
MAX_CLOCK_SKEW_SECONDS = 300


class DeliveryFailed(Exception):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would take the delivery past the target check: it is a failed delivery instead."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>." + the raw body>`, keyed with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, signature: str, timestamp: str, *, now: float | None = None) -> bool:
    """What a receiver checks: the signature, and a timestamp within MAX_CLOCK_SKEW_SECONDS."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= MAX_CLOCK_SKEW_SECONDS and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def send_email(*, recipients: list[str], subject: str, body: str) -> None:
    try:
        sent = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients).send()
    except Exception as error:
        raise DeliveryFailed(f"email: {type(error).__name__}: {error}") from error
    if not sent:
        raise DeliveryFailed("email: the backend sent nothing")


def send_webhook(*, url: str, secret: str, document: dict, delivery: str) -> None:
    if not secret:
        raise DeliveryFailed("webhook: the rule has no secret; set one in the console to sign its deliveries")
    problem = target_problem(url)
    if problem is not None:
        raise DeliveryFailed(f"webhook: {problem}")
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "sagaops-alerts",
        "X-Sagaops-Delivery": delivery,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=conf.SAGAOPS_ALERT_WEBHOOK_TIMEOUT) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"webhook: HTTP {error.code} from {url}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryFailed(f"webhook: {url} unreachable: {getattr(error, 'reason', error)}") from error
