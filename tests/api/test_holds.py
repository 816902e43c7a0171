"""Holds over the API: place, list, release at a rate, pause, cancel; permissions and bad input."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from sagaops.api.services import token_issue
from sagaops.models import Hold, SagaStep
from sagaops.services.holds import hold_release_tick
from tests.api.conftest import make_saga, token_client

pytestmark = pytest.mark.django_db

CHARGE = {"saga_type": "order.checkout", "step": "charge_payment", "reason": "payment provider outage"}


@pytest.fixture
def holder(db):
    user = User.objects.create_user("holder", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_saga", "manage_hold"]))
    return token_client(token_issue(user=user), user)


def place(client, **body):
    return client.post("/api/holds/", {**CHARGE, **body}, format="json")


def test_placing_a_hold_answers_it_and_audits_who_and_why(holder):
    response = place(holder)

    assert response.status_code == 201
    body = response.json()
    assert (body["target"], body["status"], body["source"], body["created_by"]) == (
        "order.checkout:charge_payment",
        "active",
        "operator",
        "holder",
    )
    entry = LogEntry.objects.get(object_id=str(body["id"]))
    assert entry.change_message == "hold order.checkout:charge_payment: payment provider outage"


def test_a_participant_hold_is_placed_by_name(holder):
    response = holder.post("/api/holds/", {"participant": "payments", "reason": "down"}, format="json")
    assert (response.status_code, response.json()["target"]) == (201, "participant:payments")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"saga_type": "nope"}, "saga_type", "unknown saga type 'nope'"),
        ({"step": "nope"}, "step", "saga type order.checkout has no step 'nope'"),
        ({"saga_type": "", "step": "", "participant": "mail"}, "participant", "no registered step declares"),
        ({"saga_type": "", "step": ""}, "saga_type", "name a step (saga_type and step) or a participant"),
        ({"reason": ""}, "reason", "may not be blank"),
    ],
)
def test_a_bad_hold_is_a_400_naming_the_field(holder, body, field, message):
    response = place(holder, **body)
    assert response.status_code == 400
    assert message in response.json()[field][0]


def test_a_second_hold_on_the_same_step_is_refused(holder):
    first = place(holder).json()
    response = place(holder)
    assert response.status_code == 409
    assert (
        response.json()["error"] == f"hold #{first['id']} on order.checkout:charge_payment (active) is already in force"
    )


def test_the_list_shows_each_hold_with_the_sagas_it_holds(holder):
    hold_id = place(holder).json()["id"]
    saga = make_saga(status="running", steps={"a": "succeeded", "b": "held"})
    SagaStep.objects.filter(saga=saga, name="b").update(held_by=hold_id, held_at=timezone.now())

    listed = holder.get("/api/holds/").json()

    assert [(h["id"], h["held"], h["release"]["progress"]) for h in listed] == [(hold_id, 1, None)]
    assert holder.get("/api/holds/?status=released").json() == []
    assert holder.get("/api/holds/?status=bogus").status_code == 400


def test_release_pause_and_cancel_move_the_hold_and_are_audited(holder):
    hold_id = place(holder).json()["id"]
    url = f"/api/holds/{hold_id}/"

    released = holder.post(url + "release/", {"rate": 5, "reason": "provider back"}, format="json")
    assert released.status_code == 202
    assert (released.json()["status"], released.json()["release"]["rate"]) == ("releasing", 5.0)
    assert released.json()["release"]["released_by"] == "holder"
    assert holder.post(url + "pause-release/", {"reason": "wait"}, format="json").json()["status"] == "paused"
    assert holder.post(url + "cancel-release/", {"reason": "down again"}, format="json").json()["status"] == "active"
    messages = list(
        LogEntry.objects.filter(object_id=str(hold_id)).order_by("id").values_list("change_message", flat=True)
    )
    assert messages[1:] == [
        "release at 5/s: provider back",
        "pause the release: wait",
        "cancel the release: down again",
    ]


def test_a_release_needs_a_rate_in_range(holder):
    hold_id = place(holder).json()["id"]
    for rate in (0, -1, 5000, "fast"):
        response = holder.post(f"/api/holds/{hold_id}/release/", {"rate": rate, "reason": "x"}, format="json")
        assert (response.status_code, list(response.json())) == (400, ["rate"])


def test_an_action_the_hold_state_forbids_is_a_409_saying_why(holder):
    hold_id = place(holder).json()["id"]
    response = holder.post(f"/api/holds/{hold_id}/pause-release/", {"reason": "x"}, format="json")
    assert (response.status_code, response.json()["error"]) == (409, f"hold #{hold_id} is active, not releasing")


def test_an_unknown_hold_is_a_404(holder):
    assert holder.get("/api/holds/999999/").status_code == 404
    assert holder.post("/api/holds/999999/release/", {"rate": 1, "reason": "x"}, format="json").status_code == 404


def test_reading_needs_view_and_acting_needs_manage_hold(viewer, holder):
    hold_id = place(holder).json()["id"]
    assert viewer.get("/api/holds/").status_code == 200
    response = viewer.post(f"/api/holds/{hold_id}/release/", {"rate": 1, "reason": "x"}, format="json")
    assert (response.status_code, response.json()["error"]) == (403, "you need the sagaops.manage_hold permission")


def test_a_release_tick_lets_its_batch_go_oldest_first_and_finishes_when_none_is_left(holder):
    # given: three held sagas, released at 2 per second
    hold_id = place(holder).json()["id"]
    sagas = [make_saga(status="running", steps={"a": "succeeded", "b": "held"}) for _ in range(3)]
    for n, saga in enumerate(sagas):
        SagaStep.objects.filter(saga=saga, name="b").update(
            held_by=hold_id, held_at=timezone.now() - timedelta(minutes=3 - n)
        )
    holder.post(f"/api/holds/{hold_id}/release/", {"rate": 2, "reason": "back"}, format="json")
    tick = Hold.objects.get(pk=hold_id).release_tick
    # when: one tick runs (and a duplicate of it)
    assert hold_release_tick(hold_id=hold_id, tick=tick) is True
    assert hold_release_tick(hold_id=hold_id, tick=tick) is False
    # then: the two held longest are let go, the third still waits
    statuses = [SagaStep.objects.get(saga=s, name="b").status for s in sagas]
    assert statuses == ["pending", "pending", "held"]
    assert Hold.objects.get(pk=hold_id).released_count == 2
    # when: the next tick lets the last go: none is left, so the release is over
    assert hold_release_tick(hold_id=hold_id, tick=tick + 1) is False
    assert (Hold.objects.get(pk=hold_id).status, Hold.objects.get(pk=hold_id).released_count) == ("released", 3)
