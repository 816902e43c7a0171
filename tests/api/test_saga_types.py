"""The version lifecycle: GET /api/saga-types/ and the version_unserved alert."""

import time

import pytest

from sagaops.console.heartbeat import beat_once
from sagaops.observability.alerts.services import versions_check
from sagaops.observability.models import AlertRule, AlertSent
from tests.api.conftest import make_saga
from tests.sagas import async_flow


def versions(client) -> dict:
    return {(v["type"], v["version"]): v for v in client.get("/api/saga-types/").json()["versions"]}


@pytest.mark.django_db
def test_every_registered_version_is_listed_with_its_unfinished_sagas_and_workers(viewer):
    beat_once("worker-a", ["celery"], time.time())
    make_saga(status="running")
    make_saga(status="stuck")
    make_saga(status="completed")

    body = viewer.get("/api/saga-types/").json()

    assert "worker-a" in body["workers"]
    flow = {(v["type"], v["version"]): v for v in body["versions"]}[("test.flow", 1)]
    assert (flow["registered"], flow["latest"], flow["in_flight"], flow["in_flight_total"]) == (
        True,
        True,
        {"running": 1, "stuck": 1},
        2,
    )
    assert ("worker-a" in flow["workers"], flow["unserved"]) == (True, False)
    assert ("order.checkout", 1) in versions(viewer)


@pytest.mark.django_db
def test_a_version_with_active_sagas_and_no_live_worker_is_unserved(viewer):
    beat_once("worker-a", ["celery"], time.time())  # knows test.flow v1, not v7
    make_saga(status="running", definition_version=7)

    old = versions(viewer)[("test.flow", 7)]

    assert (old["registered"], old["workers"], old["unserved"]) == (False, [], True)


@pytest.mark.django_db
def test_a_version_with_only_stuck_sagas_is_not_unserved(viewer):
    # (versions no worker of this suite knows: a live worker's announcement cannot race the test)
    make_saga(status="stuck", definition=async_flow, definition_version=8)
    assert versions(viewer)[("test.async", 8)]["unserved"] is False  # stuck waits for an operator anyway


@pytest.mark.django_db
def test_an_unserved_version_raises_its_alert_once_a_day(viewer):
    AlertRule.objects.create(name="versions", kind="version_unserved", email_recipients="ops@example.com")
    make_saga(status="running", definition_version=7)

    assert versions_check() == 1
    assert versions_check() == 0
    alert = AlertSent.objects.get(kind="version_unserved")
    assert alert.payload["subject"] == "[sagaops] no live worker knows test.flow v7"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_real_worker_announces_the_versions_it_knows(viewer):
    deadline = time.monotonic() + 20  # the test's Redis was just emptied: wait for the next announcement
    while not viewer.get("/api/saga-types/").json()["workers"]:
        assert time.monotonic() < deadline, "no worker announced itself"
        time.sleep(0.5)
    checkout = versions(viewer)[("order.checkout", 1)]
    assert len(checkout["workers"]) >= 1
