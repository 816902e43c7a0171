"""Bulk actions by query through a real worker: 5,000 stuck sagas retried at a rate, paused,
resumed, and the report of each saga's outcome and of what became of them."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Permission, User
from django.db.models import Max
from django.utils import timezone

from sagaops.api.services import token_issue
from sagaops.models import BulkAction, BulkActionItem, Saga
from tests.api.conftest import OPERATOR_PERMISSIONS, token_client
from tests.console.factories import seed_stuck

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]

FILTER = {"status": "stuck", "type": "test.flow"}


@pytest.fixture
def operator():
    user = User.objects.create_user("bulk-oper", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=OPERATOR_PERMISSIONS))
    return token_client(token_issue(user=user), user)


def start(operator, *, rate: float, reason: str = "payments is back"):
    response = operator.post(
        "/api/bulk-actions/", {"filter": FILTER, "action": "retry", "rate": rate, "reason": reason}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def progress(operator, bulk_id) -> dict:
    response = operator.get(f"/api/bulk-actions/{bulk_id}/")
    assert response.status_code == 200
    return response.json()


def wait_until(predicate, timeout: float, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"not reached within {timeout}s")


def rate_over(items, since) -> tuple[int, float]:
    """(sagas processed since `since`, seconds from `since` to the last one). At a rate r a run
    may have done at most r * seconds + one batch (a batch goes at once)."""
    rows = items.filter(processed_at__gte=since)
    return rows.count(), (rows.aggregate(last=Max("processed_at"))["last"] - since).total_seconds()


def test_a_5000_saga_retry_by_query_runs_at_its_rate_pauses_resumes_and_reports(operator):
    # given 5,000 stuck sagas; the first ones the rules refuse (a failed compensation: retry
    # forward makes no sense) or make the service raise, then some that will fail again (a
    # business refusal: transient failures would trip the step's circuit breaker and hold them)
    broken = seed_stuck(10, context=["not", "an", "object"])
    refused = seed_stuck(100, "compensation")
    again = seed_stuck(100, payload={"order_id": 2, "fail": {"e": "business"}})
    seed_stuck(4_790, payload={"order_id": 1})
    rate = 25.0

    # when a bulk retry by query starts at 25 sagas per second
    bulk = start(operator, rate=rate)
    assert bulk["total"] == 5_000 and bulk["status"] == "running"
    late = seed_stuck(3)  # matches the filter, but came after the snapshot
    items = BulkActionItem.objects.filter(bulk_id=bulk["id"])

    # then it walks the selection at its rate, not faster
    wait_until(lambda: progress(operator, bulk["id"])["processed"] >= 250, timeout=30)
    n, seconds = rate_over(items, BulkAction.objects.get(pk=bulk["id"]).created_at)
    assert n - rate <= rate * seconds, f"{n} sagas in {seconds:.1f}s: faster than {rate:g}/s"
    assert n >= rate * seconds * 0.5, f"{n} sagas in {seconds:.1f}s: far slower than {rate:g}/s"

    # it pauses: no saga is touched while paused
    paused = operator.post(f"/api/bulk-actions/{bulk['id']}/pause/", {"reason": "watching"}, format="json")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    time.sleep(1.5)  # the batch in progress lands
    at_pause = progress(operator, bulk["id"])["processed"]
    time.sleep(2.5)
    assert progress(operator, bulk["id"])["processed"] == at_pause

    # it resumes at its rate from where it stopped
    resumed_at = timezone.now()
    resumed = operator.post(f"/api/bulk-actions/{bulk['id']}/resume/", {"reason": "fine"}, format="json")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    wait_until(lambda: progress(operator, bulk["id"])["processed"] >= at_pause + 150, timeout=30)
    n, seconds = rate_over(items, resumed_at)
    assert n - rate <= rate * seconds, f"{n} sagas in {seconds:.1f}s after the resume: faster than {rate:g}/s"

    # it cancels: the rest stays as it was
    cancelled = operator.post(f"/api/bulk-actions/{bulk['id']}/cancel/", {"reason": "enough"}, format="json")
    assert cancelled.status_code == 200
    time.sleep(1.5)
    report = progress(operator, bulk["id"])
    processed = report["processed"]
    time.sleep(1.5)
    assert progress(operator, bulk["id"])["processed"] == processed
    assert report["status"] == "cancelled"

    # and it reports each saga's outcome
    outcomes = report["outcomes"]
    assert (outcomes["refused"], outcomes["failed"]) == (100, 10)
    assert outcomes["applied"] == processed - 110 and outcomes["pending"] == 5_000 - processed
    assert "retry the compensation instead" in report["refused"][0]["message"]
    assert report["failed"][0]["message"].startswith("AttributeError")
    assert {str(r["saga"]) for r in report["refused"]} <= {str(pk) for pk in refused}
    assert {str(r["saga"]) for r in report["failed"]} == {str(pk) for pk in broken}
    assert not items.filter(saga_id__in=late).exists()
    assert set(Saga.objects.filter(pk__in=late).values_list("status", flat=True)) == {"stuck"}
    untouched = items.filter(outcome="pending").values("saga_id")
    assert set(Saga.objects.filter(pk__in=untouched).values_list("status", flat=True)) == {"stuck"}

    # afterwards: how many of the applied completed, and how many became stuck again
    def settled():
        after = progress(operator, bulk["id"])["aftermath"]
        return after if after["in_flight"] == 0 else None

    after = wait_until(settled, timeout=60, poll=0.5)
    assert after["stuck"] == 100 and Saga.objects.filter(pk__in=again, status="stuck").count() == 100
    assert (after["completed"], after["compensated"]) == (outcomes["applied"] - 100, 0)


def test_a_bulk_by_query_runs_to_the_end(operator):
    # given
    seed_stuck(60, payload={"order_id": 1})

    # when
    bulk = start(operator, rate=30)

    # then
    done = wait_until(lambda: (p := progress(operator, bulk["id"]))["status"] == "done" and p, timeout=30)
    assert done["outcomes"] == {"pending": 0, "applied": 60, "refused": 0, "failed": 0}
    assert done["finished_at"] and done["processed"] == 60
    after = wait_until(lambda: (a := progress(operator, bulk["id"])["aftermath"])["in_flight"] == 0 and a, 30, 0.5)
    assert after["completed"] == 60
    assert operator.post(f"/api/bulk-actions/{bulk['id']}/resume/", {}, format="json").status_code == 409
    assert BulkAction.objects.get(pk=bulk["id"]).status == "done"
