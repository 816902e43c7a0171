"""Bad input is a 4xx naming the field, and nothing is written: the requests from issue reports."""

import pytest

from orders.models import Order
from sagaops.models import Saga, SagaEvent
from tests.api.conftest import make_saga

pytestmark = pytest.mark.django_db

ORDER = {"customer": "ann", "items": [{"sku": "KB", "quantity": 1}], "mode": "orchestrated"}


def post_raw(client, path: str, raw: str):
    return client.generic("POST", path, raw.encode("utf-8", "surrogatepass"), content_type="application/json")


def nothing_written() -> bool:
    return not Saga.objects.exists() and not Order.objects.exists()


def test_a_checkout_with_an_empty_payload_is_refused_naming_the_fields(service):
    response = service.post("/api/sagas/", {"type": "order.checkout", "payload": {}}, format="json")

    assert response.status_code == 400
    missing = response.json()["payload"]
    assert {"order_id", "customer", "items", "total"} <= set(missing)
    assert nothing_written()


def test_a_checkout_payload_of_the_wrong_types_names_each_field(service):
    payload = {"order_id": "1", "customer": 12, "items": [{"sku": "KB", "quantity": "1"}], "total": 89.0}

    response = service.post("/api/sagas/", {"type": "order.checkout", "payload": payload}, format="json")

    assert response.status_code == 400
    errors = response.json()["payload"]
    assert set(errors) == {"order_id", "customer", "items", "total"}
    assert "quantity" in errors["items"][0]
    assert nothing_written()


def test_json_nested_400_levels_is_a_400(service):
    raw = '{"type": "test.flow", "payload": ' + '{"a": ' * 400 + "1" + "}" * 400 + "}"

    response = post_raw(service, "/api/sagas/", raw)

    assert response.status_code == 400
    assert "nested deeper" in str(response.json())
    assert nothing_written()


def test_json_nested_beyond_the_interpreters_stack_is_a_400(service):
    raw = '{"type": "test.flow", "payload": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"

    response = post_raw(service, "/api/sagas/", raw)

    assert response.status_code == 400
    assert nothing_written()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"type": "test.flow", "payload": {"n": "\\ud800"}}', "payload.n"),
        ('{"type": "test.flow", "payload": {"\\ud800": 1}}', "payload"),
        ('{"type": "test.flow", "payload": {"n": ["ok", "a\\u0000b"]}}', "payload.n[1]"),
    ],
)
def test_strings_postgresql_cannot_store_are_a_400_naming_where(service, raw, field):
    response = post_raw(service, "/api/sagas/", raw)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert nothing_written()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_a_400(service, constant):
    response = post_raw(service, "/api/sagas/", '{"type": "test.flow", "payload": {"n": ' + constant + "}}")

    assert response.status_code == 400
    assert nothing_written()


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/sagas/", "cD0yMDI2LTEzLTQ1"),  # p=2026-13-45
        ("/api/sagas/", "cD14eXo="),  # p=xyz
        ("/api/sagas/", "!!not-base64"),
        ("EVENTS", "cj0xJnA9eHl6"),  # r=1&p=xyz
    ],
)
def test_a_crafted_cursor_is_a_400_naming_it(service, path, cursor):
    saga = make_saga(started_by=service.user)
    path = f"/api/sagas/{saga.id}/events/" if path == "EVENTS" else path

    response = service.get(path, {"cursor": cursor})

    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ORDER, "customer": 12}, "customer"),
        ({**ORDER, "items": [{"sku": "KB", "quantity": "1"}]}, "items"),
        ({**ORDER, "items": [{"sku": "KB", "quantity": 1.0}]}, "items"),
        ({**ORDER, "items": [{"sku": "KB", "quantity": True}]}, "items"),
        ({**ORDER, "items": [{"sku": 7, "quantity": 1}]}, "items"),
        ({**ORDER, "items": [{"sku": "KB", "quantity": 10_001}]}, "items"),
        ({**ORDER, "coupon": ["TEN"]}, "coupon"),
    ],
)
def test_an_order_with_a_wrong_json_type_is_a_400_not_coerced(service, catalog, body, field):
    response = service.post("/api/orders/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert nothing_written()


def test_the_quantity_limit_holds_across_duplicate_lines(service, catalog):
    items = [{"sku": "KB", "quantity": 6000}, {"sku": "KB", "quantity": 6000}]

    response = service.post("/api/orders/", {**ORDER, "items": items}, format="json")

    assert response.status_code == 400
    assert response.json()["field"] == "items[1].quantity"
    assert nothing_written()


def test_a_refusal_by_a_participant_names_the_field(participant, catalog):
    response = participant.post(
        "/api/inventory/reservations/", {"reference": "r1", "items": [{"sku": "KB", "quantity": "2"}]}, format="json"
    )

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("invalid_quantity", "items")
    assert not SagaEvent.objects.exists()


def test_a_bad_host_header_under_the_api_is_a_json_400(client):
    response = client.get("/api/sagas/", HTTP_HOST="evil.example.com")

    assert (response.status_code, response["Content-Type"]) == (400, "application/json")
    assert response.json() == {"error": "bad request"}
