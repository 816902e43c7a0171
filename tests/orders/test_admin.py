import pytest
from django.urls import reverse


@pytest.mark.parametrize("model", ["order", "orderline"])
@pytest.mark.parametrize("query", ["", "?q=abc", "?q=1"])
def test_the_changelist_renders_and_searches(admin_client, model, query):
    response = admin_client.get(reverse(f"admin:orders_{model}_changelist") + query)

    assert response.status_code == 200


def test_an_order_page_shows_its_lines(admin_client):
    from tests.orders.factories import OrderLineFactory

    line = OrderLineFactory(sku="KB-XYZ")

    response = admin_client.get(reverse("admin:orders_order_change", args=[line.order.pk]))

    assert response.status_code == 200
    assert "KB-XYZ" in response.content.decode()
