"""The participants' own operations over HTTP, idempotent on `reference`."""

from decimal import Decimal

import pytest

from inventory.models import Product
from payments.models import Account, Payment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

RESERVE = {"reference": "s1:reserve_stock", "items": [{"sku": "KB", "quantity": 2}]}
CHARGE = {"reference": "s1:charge_payment", "customer": "ann", "amount": "100.00", "coupon": None}


def test_prices(participant):
    response = participant.get("/api/inventory/products/?sku=KB&sku=MS&sku=NOPE")

    assert response.json() == {"prices": {"KB": "89.00", "MS": "29.50"}}


def test_reserve_twice_takes_stock_once(participant):
    first = participant.post("/api/inventory/reservations/", RESERVE, format="json")
    again = participant.post("/api/inventory/reservations/", RESERVE, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert (
        first.json()
        == again.json()
        == {
            "reference": "s1:reserve_stock",
            "status": "active",
            "items": [{"sku": "KB", "quantity": 2}],
            "nothing_to_undo": False,
        }
    )
    assert Product.objects.get(sku="KB").stock == 8


def test_reserve_out_of_stock_is_409_with_a_code(participant):
    response = participant.post(
        "/api/inventory/reservations/", {**RESERVE, "items": [{"sku": "KB", "quantity": 99}]}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "error": "out of stock: KB (requested 99, available 10)",
        "code": "out_of_stock",
        "args": ["KB", 99, 10],
    }


def test_reserve_with_bad_items_is_422_with_a_code(participant):
    response = participant.post(
        "/api/inventory/reservations/", {**RESERVE, "items": [{"sku": "KB", "quantity": 0}]}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (422, "invalid_quantity")


def test_reserve_without_a_reference_names_it(participant):
    response = participant.post("/api/inventory/reservations/", {"items": []}, format="json")

    assert response.status_code == 400
    assert "reference" in response.json()


def test_release_gives_the_stock_back_once(participant):
    participant.post("/api/inventory/reservations/", RESERVE, format="json")

    first = participant.post("/api/inventory/reservations/s1:reserve_stock/release/")
    again = participant.post("/api/inventory/reservations/s1:reserve_stock/release/")

    assert first.json()["status"] == again.json()["status"] == "released"
    assert Product.objects.get(sku="KB").stock == 10


def test_release_of_nothing_is_a_tombstone(participant):
    response = participant.post("/api/inventory/reservations/never/release/")

    assert (response.status_code, response.json()["nothing_to_undo"]) == (200, True)


def test_charge_twice_charges_once(participant):
    first = participant.post("/api/payments/charges/", CHARGE, format="json")
    again = participant.post("/api/payments/charges/", CHARGE, format="json")

    assert first.json() == again.json()
    assert first.json()["charged"] == "100.00"
    assert Account.objects.get(customer="ann").balance == Decimal("900.00")


def test_charge_with_insufficient_funds_is_409_with_a_code(participant):
    response = participant.post("/api/payments/charges/", {**CHARGE, "customer": "pat"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_funds"
    assert response.json()["args"] == ["pat", "100.00", "5.00"]


@pytest.mark.parametrize("amount", ["1.234", "1_000", "١٠٠", "1e2", "+5", "5.", "-1", "0", " 5", 12.5, None])
def test_charge_with_a_malformed_amount_is_400_naming_it_and_charges_nothing(participant, amount):
    response = participant.post("/api/payments/charges/", {**CHARGE, "amount": amount}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["amount"]
    assert Account.objects.get(customer="ann").balance == Decimal("1000.00")
    assert not Payment.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("customer", 12), ("reference", ["r"])])
def test_charge_with_a_wrong_json_type_is_400_not_coerced(participant, field, value):
    response = participant.post("/api/payments/charges/", {**CHARGE, field: value}, format="json")

    assert (response.status_code, list(response.json())) == (400, [field])
    assert not Payment.objects.exists()


def test_charge_without_a_customer_names_it(participant):
    response = participant.post("/api/payments/charges/", {"reference": "r", "amount": "1.00"}, format="json")

    assert response.status_code == 400
    assert "customer" in response.json()


def test_refund_credits_back_once(participant):
    participant.post("/api/payments/charges/", CHARGE, format="json")

    participant.post("/api/payments/charges/s1:charge_payment/refund/")
    again = participant.post("/api/payments/charges/s1:charge_payment/refund/")

    assert again.json()["status"] == "refunded"
    assert Account.objects.get(customer="ann").balance == Decimal("1000.00")


def test_participants_need_a_token(anonymous):
    assert anonymous.post("/api/payments/charges/", CHARGE, format="json").status_code == 401
    assert anonymous.post("/api/inventory/reservations/x/release/").status_code == 401


def test_an_injected_fault_is_a_transient_503(participant, settings):
    settings.SAGAOPS_FAULTS = "payments.charge=error:1"
    settings.SAGAOPS_FAULTS_FROM_REDIS = False

    response = participant.post("/api/payments/charges/", CHARGE, format="json")

    assert (response.status_code, response.json()["code"]) == (503, "transient")


def test_a_service_not_granted_the_operations_is_refused(service):
    response = service.post("/api/payments/charges/nothing/refund/")

    assert response.status_code == 403
    assert response.json() == {"error": "you need the payments.change_payment permission"}
