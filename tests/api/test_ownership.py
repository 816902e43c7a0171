"""Ownership: a service reads its own sagas and orders, and its idempotency keys are its own."""

import pytest
from django.contrib.auth.models import User

from orders.models import Order
from sagaops.api.services import service_account_create, token_issue
from sagaops.models import Saga
from tests.api.conftest import make_saga, token_client
from tests.sagas import async_flow

pytestmark = pytest.mark.django_db

START = {"type": "test.flow", "payload": {"n": 1}}
ORDER = {"customer": "ann", "items": [{"sku": "KB", "quantity": 1}], "mode": "orchestrated"}


def a_service(name: str, **limits):
    account, token = service_account_create(name=name, **limits)
    return token_client(token, account.user)


def test_a_saga_records_the_service_that_started_it(service):
    response = service.post("/api/sagas/", START, format="json")

    assert Saga.objects.get(pk=response.json()["id"]).started_by == service.user


def test_a_service_limited_to_one_type_lists_only_its_own_sagas():
    mine = a_service("warehouse", saga_types=["test.async"])
    own = make_saga(definition=async_flow, started_by=mine.user)
    others = [make_saga(started_by=None) for _ in range(3)]

    listed = mine.get("/api/sagas/?limit=500").json()["results"]

    assert [s["id"] for s in listed] == [str(own.id)]
    assert not {str(s.id) for s in others} & {s["id"] for s in listed}


def test_a_user_without_permission_may_not_read_an_order(catalog):
    saga = make_saga()
    order = Order.objects.create(customer="ann", total="89.00", saga_id=saga.id)
    nobody = User.objects.create_user("nobody", password="x")

    response = token_client(token_issue(user=nobody)).get(f"/api/orders/{order.id}/")

    assert response.status_code == 403
    assert "view_saga" in response.json()["error"]


def test_another_service_replaying_a_key_gets_its_own_saga_not_the_first_one():
    first, second = a_service("shop"), a_service("rival")
    original = first.post("/api/sagas/", START, format="json", HTTP_IDEMPOTENCY_KEY="k-1").json()

    replay = second.post("/api/sagas/", START, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert replay.status_code == 201
    assert replay.json()["id"] != original["id"]
    assert Saga.objects.get(pk=replay.json()["id"]).started_by == second.user


def test_a_key_squatted_by_another_service_does_not_block_its_owner():
    owner, squatter = a_service("shop"), a_service("rival")
    squatter.post(
        "/api/sagas/", {"type": "test.flow", "payload": {"n": 999}}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )

    response = owner.post("/api/sagas/", START, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 201
    assert response.json()["context"]["payload"] == {"n": 1}
    # and the owner's own replay still finds its saga
    again = owner.post("/api/sagas/", START, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert (again.status_code, again.json()["id"]) == (200, response.json()["id"])


def test_order_keys_are_per_service_too(catalog):
    first, second = a_service("shop"), a_service("rival")
    placed = first.post("/api/orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="o-1").json()

    other = second.post("/api/orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="o-1")

    assert other.status_code == 202
    assert other.json()["order"]["id"] != placed["order"]["id"]
    assert Order.objects.count() == 2
    assert second.get(f"/api/orders/{placed['order']['id']}/").status_code == 404
    assert first.get(f"/api/orders/{placed['order']['id']}/").status_code == 200


def test_a_service_reads_the_events_of_its_own_saga_only():
    mine, stranger = a_service("shop"), a_service("rival")
    saga = make_saga(started_by=mine.user)

    assert mine.get(f"/api/sagas/{saga.id}/events/").status_code == 200
    hidden = stranger.get(f"/api/sagas/{saga.id}/events/")
    assert (hidden.status_code, hidden.json()) == (404, {"error": f"no saga {saga.id}"})
