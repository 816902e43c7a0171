from decimal import Decimal

import factory

from orders.models import Order, OrderLine


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.Sequence(lambda n: f"customer{n}")
    total = Decimal("20.00")
    status = Order.Status.PENDING


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    quantity = 2
    unit_price = Decimal("10.00")
