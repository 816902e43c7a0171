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


def test_an_order_with_a_saga_is_read_only_where_the_saga_owns_it_and_cannot_be_deleted(admin_client):
    import uuid

    from tests.orders.factories import OrderFactory

    order = OrderFactory(customer="ann", saga_id=uuid.uuid4())
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    form = page.context["adminform"].form
    assert "status" not in form.fields and "total" not in form.fields and "customer" not in form.fields
    assert str(order.saga_id)[:8] in page.content.decode()  # links to its saga
    assert admin_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    listing = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "delete_selected" not in listing


def test_an_order_without_a_saga_stays_editable(admin_client):
    from tests.orders.factories import OrderFactory

    order = OrderFactory(customer="ann", saga_id=None)
    form = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).context["adminform"].form
    assert "status" in form.fields
