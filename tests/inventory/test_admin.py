import pytest
from django.urls import reverse


@pytest.mark.parametrize("model", ["product", "reservation", "reservationline"])
@pytest.mark.parametrize("query", ["", "?q=abc", "?q=1"])
def test_the_changelist_renders_and_searches(admin_client, model, query):
    response = admin_client.get(reverse(f"admin:inventory_{model}_changelist") + query)

    assert response.status_code == 200


def test_a_reservation_page_shows_its_lines(admin_client):
    from inventory.models import Reservation
    from inventory.services import reservation_reserve
    from tests.inventory.factories import ProductFactory

    product = ProductFactory()
    reservation_reserve(reference="r1", items=[{"sku": product.sku, "quantity": 3}])

    pk = Reservation.objects.get(reference="r1").pk
    response = admin_client.get(reverse("admin:inventory_reservation_change", args=[pk]))

    assert response.status_code == 200
