"""Alerts: one per stuck saga (email and signed webhook), digests under a storm, retries, thresholds."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from sagaops import mirror
from sagaops.models import Saga
from sagaops.observability.alerts import services
from sagaops.observability.alerts.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid
from sagaops.observability.hooks import transition_committed
from sagaops.observability.models import AlertRule, AlertSent
from sagaops.rules import Event
from sagaops.services import saga_start
from tests.helpers import wait_for_status
from tests.observability.conftest import make_rule

LINK = "http://127.0.0.1:8000/admin/sagaops/saga/{}/change/"


def wait_for_alerts(saga_id, count: int, timeout: float = 20) -> list[AlertSent]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alerts = list(AlertSent.objects.filter(saga_id=saga_id).exclude(status=AlertSent.Status.PENDING))
        if len(alerts) >= count:
            return alerts
        time.sleep(0.1)
    raise AssertionError(f"{count} alert(s) for saga {saga_id} not delivered within {timeout}s")


def stuck_saga(**fields) -> Saga:
    values = {"type": "test.flow", "status": "stuck", "attention_reason": "step e failed after 3 attempt(s)", **fields}
    return Saga.objects.create(**values)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_stuck_saga_sends_exactly_one_alert(webhook_server):
    # given
    make_rule(webhook_url=webhook_server.url, webhook_secret="shh")

    # when: the worker runs a saga that sticks after its pivot
    saga = wait_for_status(saga_start(saga_type="test.flow", payload={"fail": {"e": "always"}})[0].id)
    alerts = wait_for_alerts(saga.id, 2)
    time.sleep(0.5)  # room for a duplicate to show up
    services.alerts_catch_up()  # the periodic check finds nothing left to alert

    # then: one email, one webhook, signed, both linking to the saga in the console
    assert saga.status == "stuck"
    assert sorted((a.channel, a.status, a.kind) for a in AlertSent.objects.all()) == [
        ("email", "sent", "saga_stuck"),
        ("webhook", "sent", "saga_stuck"),
    ]
    email = next(a for a in alerts if a.channel == "email")
    assert str(saga.id) in email.payload["subject"] and LINK.format(saga.id) in email.payload["body"]
    [request] = webhook_server.requests
    assert signature_valid(
        "shh", request["body"], request["headers"][SIGNATURE_HEADER], request["headers"][TIMESTAMP_HEADER]
    )
    document = webhook_server.documents()[0]
    assert document["kind"] == "saga_stuck"
    assert document["saga"]["id"] == str(saga.id) and document["saga"]["url"] == LINK.format(saga.id)


@pytest.mark.django_db
def test_the_email_goes_to_the_rule_recipients_once(eager_celery, django_capture_on_commit_callbacks):
    # given
    make_rule(email_recipients="ops@example.com,\noncall@example.com")
    saga = stuck_saga(correlation_id="order:7")

    # when: the alert is raised twice (a redelivered task, or the catch-up pass)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_for_saga(saga_id=saga.id, kind="saga_stuck")
        services.alerts_for_saga(saga_id=saga.id, kind="saga_stuck")

    # then
    [message] = mail.outbox
    assert message.to == ["ops@example.com", "oncall@example.com"]
    assert message.subject == f"[sagaops] saga stuck: test.flow {saga.id}"
    assert LINK.format(saga.id) in message.body and "order:7" in message.body
    assert AlertSent.objects.get().status == "sent"


@pytest.mark.django_db
def test_rules_match_their_kind_and_saga_type(eager_celery, django_capture_on_commit_callbacks):
    make_rule(name="other type", saga_type="order.checkout")
    make_rule(name="compensations", kind=AlertRule.Kind.COMPENSATION_FAILED)
    make_rule(name="disabled", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_for_saga(saga_id=stuck_saga().id, kind="saga_stuck") == []
    assert mail.outbox == []


@pytest.mark.django_db
@override_settings(SAGAOPS_ALERT_RATE_LIMIT=5)
def test_a_burst_of_100_sends_a_digest(eager_celery, django_capture_on_commit_callbacks):
    # given
    make_rule()
    sagas = Saga.objects.bulk_create([Saga(type="test.flow", status="stuck") for _ in range(100)])

    # when: 100 sagas stick at once, then the periodic check runs (twice)
    with django_capture_on_commit_callbacks(execute=True):
        for saga in sagas:
            services.alerts_for_saga(saga_id=saga.id, kind="saga_stuck")
    individual = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_check()
        services.alerts_check()

    # then: five single alerts, then one digest for the other 95
    assert individual == 5
    assert len(mail.outbox) == 6
    digest = mail.outbox[-1]
    assert digest.subject == "[sagaops] digest: 95 alerts (ops)"
    assert LINK.format(sagas[-1].id) not in digest.body  # the body lists the first 50 and links to the rest
    assert LINK.format(sagas[5].id) in digest.body
    counts = dict(AlertSent.objects.values_list("status").annotate(n=Count("pk")).order_by())
    assert counts == {"sent": 6, "digested": 95}


@pytest.mark.django_db
@override_settings(SAGAOPS_ALERT_MAX_ATTEMPTS=3)
def test_a_failing_webhook_is_retried_then_recorded_as_failed(
    webhook_server, eager_celery, django_capture_on_commit_callbacks
):
    # given: a webhook that answers 500 to everything
    webhook_server.status = 500
    make_rule(email_recipients="", webhook_url=webhook_server.url, webhook_secret="shh")
    saga = stuck_saga()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_for_saga(saga_id=saga.id, kind="saga_stuck")

    # then
    alert = AlertSent.objects.get()
    assert len(webhook_server.requests) == 3
    assert (alert.status, alert.attempts, alert.sent_at) == ("failed", 3, None)
    assert "HTTP 500" in alert.error


@pytest.mark.django_db
def test_a_failed_compensation_raises_both_kinds_from_the_engine_events(
    eager_celery, django_capture_on_commit_callbacks
):
    # given: one rule per kind, and a saga whose compensation of step a just failed
    make_rule(name="stuck")
    make_rule(name="compensations", kind=AlertRule.Kind.COMPENSATION_FAILED)
    saga = stuck_saga(attention_reason="compensation of step a failed after 2 attempt(s)")

    # when: the transition's events are committed
    with django_capture_on_commit_callbacks(execute=True):
        transition_committed(saga, [Event("compensation_failed", "a"), Event("saga_stuck", "a")])

    # then
    assert sorted(m.subject.split(":")[0] for m in mail.outbox) == [
        "[sagaops] compensation failed",
        "[sagaops] saga stuck",
    ]


@override_settings(SAGAOPS_ALERT_RETRY_DELAY=5)
def test_retries_back_off():
    assert [services._retry_delay(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert services._retry_delay(20) == 600


@pytest.mark.django_db
def test_a_threshold_rule_fires_once_until_it_clears(eager_celery, django_capture_on_commit_callbacks):
    # given
    rule = make_rule(kind=AlertRule.Kind.STUCK_COUNT_OVER, threshold=1)
    stuck_saga()
    second = stuck_saga()

    def check():
        with django_capture_on_commit_callbacks(execute=True):
            services.thresholds_check()
        return len(mail.outbox)

    # when / then: over the threshold once, still over, back under, over again
    assert check() == 1
    assert "2 sagas are stuck" in mail.outbox[0].body
    assert check() == 1
    Saga.objects.filter(pk=second.pk).update(status="resolved")
    assert check() == 1 and AlertRule.objects.get(pk=rule.pk).firing_since is None
    Saga.objects.filter(pk=second.pk).update(status="stuck")
    assert check() == 2


@pytest.mark.django_db
def test_a_late_timer_fires_the_backlog_rule(eager_celery, django_capture_on_commit_callbacks):
    make_rule(kind=AlertRule.Kind.TIMER_BACKLOG_OVER, threshold=60)
    mirror.timer_set("00000000-0000-0000-0000-000000000001", timezone.now() - timedelta(seconds=120))
    with django_capture_on_commit_callbacks(execute=True):
        services.thresholds_check()
    [message] = mail.outbox
    assert message.subject.startswith("[sagaops] timer backlog: 12")


@pytest.mark.django_db
def test_the_console_lists_rules_and_alerts(admin_client):
    rule = make_rule()
    AlertSent.objects.create(rule=rule, saga=stuck_saga(), kind="saga_stuck", dedupe_key="k", channel="email")
    assert admin_client.get("/admin/observability/alertrule/").status_code == 200
    assert admin_client.get(f"/admin/observability/alertrule/{rule.pk}/change/").status_code == 200
    page = admin_client.get("/admin/observability/alertsent/")
    assert page.status_code == 200 and b"saga_stuck" in page.content
