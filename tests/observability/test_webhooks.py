"""Alert webhooks: a secret is required, the timestamp is signed, the secret is write-only in the
console, and internal targets are refused unless their network is allowed."""

import time

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from sagaops.observability.alerts.channels import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryFailed,
    send_webhook,
    sign,
    signature_valid,
)
from sagaops.observability.alerts.targets import target_problem
from sagaops.observability.models import AlertRule

DOCUMENT = {"kind": "saga_stuck"}


def test_a_delivery_signs_its_timestamp_with_the_body(webhook_server):
    send_webhook(url=webhook_server.url, secret="shh", document=DOCUMENT, delivery="1")

    [request] = webhook_server.requests
    timestamp, signature = request["headers"][TIMESTAMP_HEADER], request["headers"][SIGNATURE_HEADER]
    assert abs(int(timestamp) - time.time()) < 5
    assert signature == sign("shh", timestamp, request["body"])
    assert signature_valid("shh", request["body"], signature, timestamp)


def test_a_replayed_delivery_fails_verification_once_its_timestamp_is_old(webhook_server):
    send_webhook(url=webhook_server.url, secret="shh", document=DOCUMENT, delivery="1")
    [request] = webhook_server.requests
    timestamp, signature = request["headers"][TIMESTAMP_HEADER], request["headers"][SIGNATURE_HEADER]

    later = int(timestamp) + 301
    assert not signature_valid("shh", request["body"], signature, timestamp, now=later)
    # and moving the timestamp forward breaks the signature
    assert not signature_valid("shh", request["body"], signature, str(later), now=later)


def test_a_webhook_without_a_secret_is_not_delivered(webhook_server):
    with pytest.raises(DeliveryFailed, match="no secret"):
        send_webhook(url=webhook_server.url, secret="", document=DOCUMENT, delivery="1")
    assert webhook_server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:9/hook",
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://0.0.0.0:9/hook",
        "ftp://example.com/hook",
    ],
)
def test_internal_or_odd_targets_are_refused(url, settings):
    settings.SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS = []

    assert target_problem(url) is not None
    with pytest.raises(DeliveryFailed):
        send_webhook(url=url, secret="shh", document=DOCUMENT, delivery="1")


def test_an_allowed_network_may_be_targeted(webhook_server, settings):
    settings.SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS = []
    assert target_problem(webhook_server.url) is not None

    settings.SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    assert target_problem(webhook_server.url) is None


@pytest.fixture
def admin_client_(client, db):
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def rule_form(**fields) -> dict:
    return {"name": "ops", "kind": "saga_stuck", "saga_type": "", "threshold": "0", "enabled": "on", **fields}


def test_the_console_requires_a_secret_with_a_webhook(admin_client_, webhook_server):
    response = admin_client_.post(
        reverse("admin:observability_alertrule_add"), rule_form(webhook_url=webhook_server.url)
    )

    assert response.status_code == 200
    assert "A webhook needs a secret" in response.content.decode()
    assert not AlertRule.objects.filter(webhook_url=webhook_server.url).exists()  # (the default rules stay)


def test_the_console_refuses_an_internal_webhook_target(admin_client_, settings):
    settings.SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS = []

    response = admin_client_.post(
        reverse("admin:observability_alertrule_add"),
        rule_form(webhook_url="http://169.254.169.254/latest/", webhook_secret="shh"),
    )

    assert response.status_code == 200
    assert "link-local or private" in response.content.decode()
    assert not AlertRule.objects.exclude(webhook_url="").exists()  # (the default rules mail, no webhook)


def test_the_secret_is_never_rendered_back_and_kept_when_left_empty(admin_client_, webhook_server):
    rule = AlertRule.objects.create(
        name="ops", kind="saga_stuck", webhook_url=webhook_server.url, webhook_secret="very-secret-value"
    )
    change = reverse("admin:observability_alertrule_change", args=[rule.pk])

    page = admin_client_.get(change).content.decode()
    saved = admin_client_.post(change, rule_form(webhook_url=webhook_server.url, webhook_secret=""))

    assert "very-secret-value" not in page
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert rule.webhook_secret == "very-secret-value"
