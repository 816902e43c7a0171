from django.db.models import QuerySet

from orders.exceptions import OrderNotFound
from orders.models import Order


def order_list() -> QuerySet[Order]:
    return Order.objects.prefetch_related("lines").order_by("-created")


def order_get(*, order_id: int) -> Order:
    order = Order.objects.prefetch_related("lines").filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order
