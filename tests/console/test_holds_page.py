"""The Holds page and the held section of the stuck page (Django's test client, no worker)."""

import pytest
from django.utils import timezone

from sagaops.models import Hold, SagaStep
from sagaops.services.holds import hold_place
from tests.api.conftest import make_saga

pytestmark = pytest.mark.django_db

URL = "/admin/sagaops/saga/holds/"


def test_the_page_lists_targets_to_hold_and_places_one(repair_client, repairer):
    page = repair_client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="order.checkout:charge_payment"' in body
    assert 'value="participant:payments"' in body

    response = repair_client.post(URL, {"target": "participant:payments", "reason": "provider down"}, follow=True)

    hold = Hold.objects.get()
    assert (hold.participant, hold.reason, hold.created_by) == ("payments", "provider down", repairer)
    assert f"Hold #{hold.pk} placed on participant:payments." in response.content.decode()


def test_a_hold_without_a_reason_is_refused_with_the_form_error(repair_client):
    response = repair_client.post(URL, {"target": "test.flow:b", "reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Hold.objects.exists()


def test_release_then_pause_then_cancel_from_the_page(repair_client, repairer):
    hold = hold_place(user=repairer, reason="outage", saga_type="test.flow", step="b")
    act = f"{URL}{hold.pk}/"

    repair_client.post(act + "release/", {"rate": "3", "reason": "back"})
    assert (Hold.objects.get(pk=hold.pk).status, Hold.objects.get(pk=hold.pk).release_rate) == ("releasing", 3.0)
    repair_client.post(act + "pause/", {"reason": "wait"})
    assert Hold.objects.get(pk=hold.pk).status == "paused"
    repair_client.post(act + "cancel/", {"reason": "down again"})
    assert Hold.objects.get(pk=hold.pk).status == "active"


def test_a_refused_action_is_a_console_message(repair_client, repairer):
    hold = hold_place(user=repairer, reason="outage", saga_type="test.flow", step="b")
    response = repair_client.post(f"{URL}{hold.pk}/pause/", {"reason": "x"}, follow=True)
    assert f"Cannot pause hold #{hold.pk}: hold #{hold.pk} is active, not releasing" in response.content.decode()


def test_a_bad_rate_is_a_console_message(repair_client, repairer):
    hold = hold_place(user=repairer, reason="outage", saga_type="test.flow", step="b")
    response = repair_client.post(f"{URL}{hold.pk}/release/", {"rate": "lots", "reason": "x"}, follow=True)
    assert f"Cannot release hold #{hold.pk}: rate: Enter a number." in response.content.decode()
    assert Hold.objects.get(pk=hold.pk).status == "active"


def test_a_view_only_operator_sees_the_holds_but_cannot_act(view_client, repairer):
    hold = hold_place(user=repairer, reason="outage", saga_type="test.flow", step="b")
    page = view_client.get(URL).content.decode()
    assert "test.flow:b" in page and 'id="hold-form"' not in page and "hold-release" not in page
    assert view_client.post(f"{URL}{hold.pk}/release/", {"rate": "3", "reason": "x"}).status_code == 403
    assert view_client.post(URL, {"target": "test.flow:b", "reason": "x"}).status_code == 403


def test_the_stuck_page_lists_held_sagas_in_their_own_section(view_client, repairer):
    hold = hold_place(user=repairer, reason="outage", saga_type="test.flow", step="b")
    saga = make_saga(
        status="running", steps={"a": "succeeded", "b": "held"}, attention_reason="held by hold #1: outage"
    )
    SagaStep.objects.filter(saga=saga, name="b").update(held_by=hold.pk, held_at=timezone.now())

    page = view_client.get("/admin/sagaops/saga/stuck/").content.decode()

    section = page[page.index('id="section-held"') :]
    assert "Held (1)" in section
    assert str(saga.pk)[:8] in section and "held by hold #1: outage" in section


def test_the_dashboard_flags_a_version_no_live_worker_knows(view_client):
    make_saga(status="running", definition_version=7)
    page = view_client.get("/admin/sagaops/saga/dashboard/").content.decode()
    row = page[page.index('data-type="test.flow" data-version="7"') :]
    assert "No live worker knows this version" in row[: row.index("</tr>")]
