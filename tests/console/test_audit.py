"""The audit trail page and the honest bulk summary."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sagaops.bulk_selectors import bulk_summary
from sagaops.models import BulkAction, SagaEvent
from tests.console.factories import make_saga

pytestmark = pytest.mark.django_db

AUDIT = reverse("admin:sagaops_saga_audit")


def operator_event(saga, kind: str, actor: str, reason: str, **fields) -> SagaEvent:
    return SagaEvent.objects.create(
        saga=saga, kind=kind, actor_type="operator", actor=actor, reason=reason, version=saga.version, **fields
    )


def test_the_audit_trail_lists_operator_actions_with_their_outcome(view_client):
    retried = make_saga("completed")
    operator_event(retried, "operator_retry", "ann", "mail server back")
    SagaEvent.objects.create(saga=retried, kind="saga_completed")
    again = make_saga("forward")
    operator_event(again, "operator_retry", "bob", "try once more")
    SagaEvent.objects.create(saga=again, kind="saga_stuck", step="e")
    moving = make_saga("stalled")
    operator_event(moving, "operator_retry", "ann", "kick it")
    rows = view_client.get(AUDIT).context["rows"]
    outcomes = {row.event.saga_id: row.outcome for row in rows}
    assert outcomes == {retried.pk: "completed", again.pk: "stuck again", moving.pk: "pending"}
    assert [row.event.saga_id for row in rows] == [moving.pk, again.pk, retried.pk]  # newest first
    assert "mail server back" in view_client.get(AUDIT).content.decode()


def test_the_audit_trail_filters_by_operator_action_and_time(view_client):
    saga = make_saga("forward")
    operator_event(saga, "operator_retry", "ann", "one")
    operator_event(saga, "operator_resolve", "bob", "two")
    old = operator_event(saga, "operator_retry", "ann", "three")
    SagaEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=5))

    def reasons(**params):
        return {row.event.reason for row in view_client.get(AUDIT, params).context["rows"]}

    assert reasons(operator="ann") == {"one", "three"}
    assert reasons(kind="operator_resolve") == {"two"}
    assert reasons(since=(timezone.now() - timedelta(days=1)).date().isoformat()) == {"one", "two"}
    assert reasons(operator="nobody") == set()


def test_a_bad_date_on_the_audit_trail_is_a_message(view_client):
    response = view_client.get(AUDIT, {"since": "last tuesday"})
    assert response.status_code == 200
    assert "Not a date" in response.content.decode()


def test_a_bulk_action_summary_counts_each_outcome(repairer):
    bulk = BulkAction(user=repairer, action="retry", reason="x", total=9, status=BulkAction.Status.DONE)
    assert bulk_summary({"applied": 8, "refused": 1}, bulk) == "Partial: 8 applied, 1 refused"
    assert bulk_summary({"applied": 9}, bulk) == "9 applied"
    bulk.status = BulkAction.Status.RUNNING
    assert bulk_summary({"applied": 1, "pending": 8}, bulk) == "1 applied (8 to go)"
    bulk.status = BulkAction.Status.CANCELLED
    assert bulk_summary({"applied": 1, "pending": 8}, bulk) == "1 applied (8 not reached)"


def test_the_bulk_list_shows_partial_outcomes(repair_client, repairer):
    saga = make_saga("forward")
    bulk = BulkAction.objects.create(
        user=repairer, action="resolve", reason="x", status=BulkAction.Status.DONE, total=2
    )
    bulk.items.create(saga_id=saga.pk, version=7, outcome="applied")
    bulk.items.create(saga_id=uuid.uuid4(), version=1, outcome="refused", message="changed")
    body = repair_client.get(reverse("admin:sagaops_saga_bulk_list")).content.decode()
    assert "Partial: 1 applied, 1 refused" in body and "processed" not in body
