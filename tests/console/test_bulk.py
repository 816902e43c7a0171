"""Bulk actions on a list (a failure group, ticked sagas): the preview lists exactly the sagas
touched; each is fenced; partial success is reported."""

import json

import pytest
from django.urls import reverse

from sagaops.bulk_selectors import bulk_outcomes
from sagaops.console.selectors import Signature
from sagaops.models import BulkAction, Saga
from tests.console.factories import make_saga
from tests.helpers import run_bulk, wait_for_status

GROUP = Signature("test.flow", "e", "forward", "tests.sagas.TransientError")


def preview(client, action, signature=GROUP):
    return client.get(reverse("admin:sagaops_saga_group_preview"), {**signature.as_params(), "action": action})


def confirm(client, response, reason="payments is back"):
    form = response.context["form"]
    data = {
        "action": form["action"].value(),
        "items": form["items"].value(),
        "reason": reason,
        "rate": 100,
        "bulk_step": response.context["step"],
        "source": response.context["source"],
    }
    return client.post(reverse("admin:sagaops_saga_bulk_new"), data)


@pytest.mark.django_db
def test_the_preview_lists_exactly_the_group(repair_client):
    members = {make_saga("forward").pk for _ in range(3)}
    make_saga("compensation")
    make_saga("completed")
    response = preview(repair_client, "resolve")
    assert response.status_code == 200
    assert {row[0]["saga"] for row in response.context["rows"]} == {str(pk) for pk in members}


@pytest.mark.django_db
def test_a_group_bulk_reports_partial_success(repair_client, repairer):
    sagas = [make_saga("forward") for _ in range(3)]
    response = confirm(repair_client, preview(repair_client, "resolve"))
    bulk = BulkAction.objects.get()
    assert response["Location"] == reverse("admin:sagaops_saga_bulk", args=[bulk.pk])
    # between the preview and the run another operator acted on one of them
    Saga.objects.filter(pk=sagas[0].pk).update(version=99)

    bulk = run_bulk(bulk.pk)

    assert (bulk_outcomes(bulk)["applied"], bulk_outcomes(bulk)["refused"]) == (2, 1)
    assert "changed since you looked" in bulk.items.get(saga_id=sagas[0].pk).message
    page = repair_client.get(reverse("admin:sagaops_saga_bulk", args=[bulk.pk])).content.decode()
    assert "Partial: 2 applied, 1 refused" in page


@pytest.mark.django_db
def test_a_per_step_group_action_takes_the_step_from_the_group(repair_client):
    saga = make_saga("forward")
    response = confirm(repair_client, preview(repair_client, "skip_step"))
    bulk = run_bulk(BulkAction.objects.get().pk)
    assert response.status_code == 302 and bulk.step == "e" and bulk_outcomes(bulk)["applied"] == 1
    assert saga.steps.get(name="e").status == "skipped"


@pytest.mark.django_db
def test_a_bulk_needs_a_reason(repair_client):
    make_saga("forward")
    response = confirm(repair_client, preview(repair_client, "resolve"), reason="")
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not BulkAction.objects.exists()


@pytest.mark.django_db
def test_a_viewer_cannot_start_a_bulk(view_client):
    make_saga("forward")
    assert preview(view_client, "resolve").status_code == 403
    items = json.dumps([{"saga": str(make_saga("forward").pk), "version": 7}])
    data = {"action": "resolve", "items": items, "reason": "x", "rate": 10}
    assert view_client.post(reverse("admin:sagaops_saga_bulk_new"), data).status_code == 403


@pytest.mark.django_db
def test_bulk_from_the_saga_list(repair_client):
    stuck = [make_saga("forward"), make_saga("forward")]
    done = make_saga("completed")
    selected = [str(s.pk) for s in (*stuck, done)]
    data = {"action": "bulk_resolve", "_selected_action": selected, "index": 0}
    response = repair_client.post(reverse("admin:sagaops_saga_changelist"), data)
    assert response.status_code == 200 and len(response.context["rows"]) == 3
    confirm(repair_client, response, reason="settled with finance")
    bulk = run_bulk(BulkAction.objects.get().pk)
    assert (bulk_outcomes(bulk)["applied"], bulk_outcomes(bulk)["refused"]) == (2, 1)
    assert "cannot resolve a completed saga" in bulk.items.get(saga_id=done.pk).message


@pytest.mark.django_db
def test_list_bulk_actions_are_hidden_without_permission(view_client):
    make_saga("forward")
    response = view_client.get(reverse("admin:sagaops_saga_changelist"))
    assert "bulk_resolve" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_bulk_runs_in_the_worker_and_the_sagas_complete(repair_client):
    sagas = [make_saga("forward", payload={"order_id": i}) for i in range(2)]  # nothing fails any more
    confirm(repair_client, preview(repair_client, "retry"), reason="mail server is back")
    bulk = BulkAction.objects.get()
    for saga in sagas:
        assert wait_for_status(saga.pk, ("completed",)).status == "completed"
    bulk.refresh_from_db()
    assert bulk.status == "done" and bulk_outcomes(bulk)["applied"] == 2
