"""/metrics: counters move as sagas run through a real worker; gauges come from the database."""

import pytest
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from sagaops.models import Saga
from sagaops.redis import get_redis
from sagaops.services import saga_start
from tests.helpers import wait_for_status

METRICS_TOKEN = "scrape-token"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    # The suite runs with DEBUG off, where /metrics without a token is closed.
    settings.SAGAOPS_METRICS_TOKEN = METRICS_TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_counters_and_gauges_follow_sagas_run_by_the_worker(client):
    # given
    before = scrape(client)
    flow = {"type": "test.flow"}

    # when: one saga completes, one compensates, one sticks after the pivot
    sagas = [
        saga_start(saga_type="test.flow", payload=payload)[0]
        for payload in ({}, {"fail": {"c": "business"}}, {"fail": {"e": "always"}})
    ]
    statuses = [wait_for_status(s.id).status for s in sagas]
    after = scrape(client)

    # then
    assert statuses == ["completed", "compensated", "stuck"]

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("sagaops_sagas_started_total", **flow) == 3
    assert delta("sagaops_sagas_completed_total", **flow) == 1
    assert delta("sagaops_sagas_compensated_total", **flow) == 1
    assert delta("sagaops_sagas_stuck_total", **flow) == 1
    assert delta("sagaops_steps_failed_total", step="c", **flow) == 1
    assert delta("sagaops_steps_retried_total", step="e", **flow) == 2
    assert delta("sagaops_steps_failed_total", step="e", **flow) == 1
    assert delta("sagaops_steps_executed_total", step="e", **flow) == 1 + 3
    assert delta("sagaops_compensations_run_total", step="a", **flow) == 1
    assert delta("sagaops_step_duration_seconds_count", step="a", phase="action", **flow) == 3
    assert delta("sagaops_step_duration_seconds_count", step="a", phase="compensation", **flow) == 1
    assert delta("sagaops_saga_duration_seconds_count", outcome="completed", **flow) == 1
    assert value(after, "sagaops_sagas", status="stuck", **flow) == 1
    assert value(after, "sagaops_sagas", status="running", **flow) == 0
    assert value(after, "sagaops_sagas_needing_attention", **flow) == 1
    assert ("sagaops_timer_backlog", ()) in after


@pytest.mark.django_db
def test_gauges_agree_with_the_console_dashboard(client):
    from sagaops.console.selectors import active_counts, stuck_count

    # given: sagas in every active state, one of them stalled for longer than SAGAOPS_STUCK_AFTER
    for status, n in (("pending", 2), ("running", 3), ("compensating", 1), ("stuck", 4), ("completed", 5)):
        for _ in range(n):
            Saga.objects.create(type="test.flow", status=status)
    stalled = Saga.objects.filter(status="running").first()
    Saga.objects.filter(pk=stalled.pk).update(updated_at=timezone.now() - timezone.timedelta(hours=1))

    # when
    samples = scrape(client)

    # then
    by_status = {s: value(samples, "sagaops_sagas", status=s, type="test.flow") for s in active_counts()}
    assert by_status == active_counts() == {"pending": 2, "running": 3, "compensating": 1, "stuck": 4}
    assert value(samples, "sagaops_sagas_needing_attention", type="test.flow") == stuck_count() == 5


@pytest.mark.django_db
@override_settings(SAGAOPS_METRICS_TOKEN="s3cret")
def test_a_token_protects_the_endpoint(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


@pytest.mark.parametrize(("debug", "status"), [(False, 401), (True, 200)])
def test_without_a_token_metrics_are_closed_in_production_and_open_in_development(client, settings, debug, status):
    settings.SAGAOPS_METRICS_TOKEN = ""
    settings.DEBUG = debug

    assert client.get("/metrics").status_code == status


@pytest.mark.django_db
@override_settings(SAGAOPS_METRICS_STREAMS=["obs:events", "obs:missing"])
def test_stream_groups_report_pending_and_lag(client):
    # given: three events, a group that read two and acknowledged one
    redis = get_redis()
    ids = [redis.xadd("obs:events", {"n": str(i)}) for i in range(3)]
    redis.xgroup_create("obs:events", "supervisor", id="0")
    redis.xreadgroup("supervisor", "c1", {"obs:events": ">"}, count=2)
    redis.xack("obs:events", "supervisor", ids[0])

    # when
    samples = scrape(client)

    # then
    group = {"stream": "obs:events", "group": "supervisor"}
    assert value(samples, "sagaops_stream_length", stream="obs:events") == 3
    assert value(samples, "sagaops_stream_pending", **group) == 1
    assert value(samples, "sagaops_stream_lag", **group) == 1
