"""The checkout saga's start payload, as order_place writes it (orders.services.checkout_payload).

A saga started through `POST /api/sagas/` with anything else is refused with 400 naming the
field, instead of failing in a worker.
"""

from rest_framework import serializers

from orders.services import MAX_QUANTITY
from sagaops.api.public import MoneyField, StrictCharField, StrictIntegerField


class CheckoutItemPayload(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class CheckoutPayload(serializers.Serializer):
    order_id = StrictIntegerField(min_value=1)
    customer = StrictCharField(max_length=200)
    items = CheckoutItemPayload(many=True, allow_empty=False, max_length=200)
    coupon = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    total = MoneyField()
