"""POST /api/orders/ and GET /api/orders/{id}/ (the saga itself runs in the end-to-end tests)."""

import pytest

from orders.models import Order
from sagaops.models import Saga

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

ORDER = {"customer": "ann", "items": [{"sku": "KB", "quantity": 2}], "coupon": "TEN"}


def test_place_an_order(service):
    response = service.post("/api/orders/", ORDER, format="json", HTTP_X_CORRELATION_ID="web-1")

    assert response.status_code == 202
    body = response.json()
    order = Order.objects.get(pk=body["order"]["id"])
    assert body["order"] == {"id": order.pk, "status": "pending", "total": "178.00"}
    assert body["saga"]["id"] == str(order.saga_id)
    assert body["saga"]["status"] == "pending"
    assert body["saga"]["url"].endswith(f"/api/sagas/{order.saga_id}/")
    assert Saga.objects.get(pk=order.saga_id).correlation_id == "web-1"


def test_place_the_same_order_twice_with_a_key_places_it_once(service):
    first = service.post("/api/orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="o-1")
    again = service.post("/api/orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="o-1")

    assert first.json() == again.json()
    assert Order.objects.count() == 1


def test_another_order_under_the_same_key_is_409(service):
    service.post("/api/orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="o-1")

    response = service.post("/api/orders/", {**ORDER, "customer": "pat"}, format="json", HTTP_IDEMPOTENCY_KEY="o-1")

    assert response.status_code == 409


def test_an_unknown_product_names_the_item(service):
    response = service.post("/api/orders/", {**ORDER, "items": [{"sku": "NOPE", "quantity": 1}]}, format="json")

    assert response.status_code == 400
    assert response.json() == {"error": "items[0].sku: unknown product 'NOPE'", "field": "items[0].sku"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"sku": "KB", "quantity": 1}]}, "customer"),
        ({"customer": "ann"}, "items"),
        ({"customer": "ann", "items": []}, "items"),
        ({"customer": "ann", "items": [{"sku": "KB", "quantity": "two"}]}, "items"),
        ({"customer": "ann", "items": [{"sku": "KB", "quantity": 0}]}, "items"),
        ({**ORDER, "coupon": 5 * [1]}, "coupon"),
    ],
)
def test_a_malformed_order_names_the_field(service, body, field):
    response = service.post("/api/orders/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_a_service_not_allowed_to_check_out_is_403(limited_service):
    assert limited_service.post("/api/orders/", ORDER, format="json").status_code == 403


def test_placing_without_a_token_is_401(anonymous):
    assert anonymous.post("/api/orders/", ORDER, format="json").status_code == 401


def test_read_an_order(service):
    placed = service.post("/api/orders/", ORDER, format="json").json()

    response = service.get(f"/api/orders/{placed['order']['id']}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["customer"], body["status"], body["total"], body["coupon"]) == ("ann", "pending", "178.00", "TEN")
    assert body["items"] == [{"sku": "KB", "quantity": 2, "unit_price": "89.00"}]
    assert body["saga"]["id"] == placed["saga"]["id"]


def test_an_unknown_order_is_404(service):
    response = service.get("/api/orders/999999/")

    assert response.status_code == 404
    assert response.json() == {"error": "order 999999 does not exist"}
