"""Delivering an alert: email through Django's email framework, or a signed JSON webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage

SIGNATURE_HEADER = "X-Sagaops-Signature"


class DeliveryFailed(Exception):
    pass


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`: the receiver recomputes it with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header or "")


def send_email(*, recipients: list[str], subject: str, body: str) -> None:
    try:
        sent = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients).send()
    except Exception as error:
        raise DeliveryFailed(f"email: {type(error).__name__}: {error}") from error
    if not sent:
        raise DeliveryFailed("email: the backend sent nothing")


def send_webhook(*, url: str, secret: str, document: dict, delivery: str) -> None:
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "sagaops-alerts", "X-Sagaops-Delivery": delivery}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.SAGAOPS_ALERT_WEBHOOK_TIMEOUT) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"webhook: HTTP {error.code} from {url}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryFailed(f"webhook: {url} unreachable: {getattr(error, 'reason', error)}") from error
