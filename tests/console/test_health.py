"""System health: worker heartbeats, tick and reconcile stamps, queues and streams; the health alert rules."""

import importlib
import time

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.urls import reverse

from sagaops.console import health, heartbeat
from sagaops.models import Saga
from sagaops.observability.alerts import services as alerts
from sagaops.observability.models import AlertRule
from sagaops.redis import get_redis

pytestmark = pytest.mark.django_db

defaults = importlib.import_module("sagaops.observability.migrations.0002_health_alerts")
one_version_alert = importlib.import_module("sagaops.observability.migrations.0005_one_version_alert")


def checks() -> dict[str, health.Check]:
    return {c.key: c for c in health.system_health()}


def test_without_a_heartbeat_the_workers_check_is_red_and_says_what_to_do():
    check = checks()["workers"]
    assert not check.ok and "celery -A <project> worker" in check.todo


def test_a_heartbeat_shows_the_worker_with_its_definitions():
    heartbeat.beat_once("w1@host", ["celery"], time.time() - 60)
    check = checks()["workers"]
    assert check.ok and check.value == "1"
    assert "test.flow v1" in check.rows[0]["detail"] and check.rows[0]["queues"] == "celery"


def test_active_sagas_on_a_version_no_worker_knows_are_red():
    heartbeat.beat_once("w1@host", ["celery"], time.time())
    Saga.objects.create(type="test.flow", definition_version=9, status="running")
    Saga.objects.create(type="test.flow", definition_version=1, status="running")
    check = checks()["versions"]
    assert not check.ok and [r["name"] for r in check.rows] == ["test.flow v9"]


def test_the_tick_check_follows_the_last_tick_stamp():
    assert not checks()["tick"].ok
    get_redis().set(heartbeat.last_run_key("tick"), repr(time.time()))
    assert checks()["tick"].ok
    get_redis().set(heartbeat.last_run_key("tick"), repr(time.time() - 3600))
    assert not checks()["tick"].ok and "celery -A <project> beat" in checks()["tick"].todo


def test_queue_depth_reads_the_broker():
    check = checks()["queues"]
    assert check.ok and "celery" in check.value


def test_the_dashboard_and_the_index_show_the_health_panel(view_client):
    for url in (reverse("admin:sagaops_saga_dashboard"), reverse("admin:index")):
        body = view_client.get(url).content.decode()
        assert 'id="system-health"' in body and 'data-check="workers" data-ok="no"' in body


def test_a_fresh_install_has_default_rules_that_mail_the_admins(settings):
    AlertRule.objects.all().delete()
    defaults.create_default_rules(django_apps, None)
    defaults.create_default_rules(django_apps, None)  # idempotent
    one_version_alert.to_version_unserved(django_apps, None)  # the migrations after 0002
    kinds = set(AlertRule.objects.values_list("kind", flat=True))
    assert kinds == {"saga_stuck", "compensation_failed", "no_worker", "tick_lag_over", "version_unserved"}
    assert AlertRule.objects.count() == 5
    settings.ADMINS = [("On call", "oncall@example.com")]
    assert AlertRule.objects.get(kind="no_worker").recipients == ["oncall@example.com"]


def test_no_worker_for_too_long_pages_the_admins(settings, django_capture_on_commit_callbacks):
    settings.ADMINS = [("On call", "oncall@example.com")]
    AlertRule.objects.all().delete()  # the default rules, if the migration's rows are still here
    AlertRule.objects.create(name="no worker", kind="no_worker", threshold=60, to_admins=True)
    get_redis().set(heartbeat.last_run_key("worker"), repr(time.time() - 120))
    from project.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            alerts.thresholds_check()
    finally:
        app.conf.task_always_eager = False
    [message] = mail.outbox
    assert message.to == ["oncall@example.com"] and "no Celery worker alive" in message.subject
    assert "dashboard/#system-health" in message.body


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_real_worker_and_beat_show_up_alive():
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = checks()
        if found["workers"].ok and found["tick"].ok:
            break
        time.sleep(0.3)
    assert found["workers"].ok, found["workers"]
    assert "test.flow v1" in found["workers"].rows[0]["detail"]
    assert found["tick"].ok, found["tick"]
