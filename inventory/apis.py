"""Inventory over HTTP: prices, and reservations idempotent on the caller's reference.

A refusal carries a `code` and the exception's `args`, so a remote caller (the checkout saga's
HTTP participant client) can raise the same exception class as an in-process call would.
"""

from __future__ import annotations

import logging

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from inventory import selectors, services
from inventory.exceptions import InvalidItems, InventoryError
from sagaops.api.public import HasDjangoPermission, SagaopsApiView, StrictCharField, participant_refusal, register_error


def _refusal(error: InventoryError) -> Response:
    """Malformed input names its field; the participant client rebuilds the exception from the body."""
    return participant_refusal(error, field="items" if isinstance(error, InvalidItems) else None)


register_error(InventoryError, _refusal)

log = logging.getLogger(__name__)


class ReservationItemOutput(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class ReservationOutput(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    items = ReservationItemOutput(many=True)
    nothing_to_undo = serializers.BooleanField()


class ProductPricesApi(SagaopsApiView):
    class FilterSerializer(serializers.Serializer):
        sku = serializers.ListField(child=serializers.CharField(max_length=64), max_length=500)

    class OutputSerializer(serializers.Serializer):
        prices = serializers.DictField(child=serializers.DecimalField(max_digits=10, decimal_places=2))

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request):
        filters = self.FilterSerializer(data={"sku": request.query_params.getlist("sku")})
        filters.is_valid(raise_exception=True)
        prices = selectors.product_prices(skus=filters.validated_data["sku"])
        return Response(self.OutputSerializer({"prices": prices}).data)


class ReservationReserveApi(SagaopsApiView):
    permission_classes = [IsAuthenticated, HasDjangoPermission]
    required_permission = "inventory.add_reservation"

    class InputSerializer(serializers.Serializer):
        reference = StrictCharField(max_length=255)
        # Checked by the service, which refuses bad items with 422 and a code (a business error).
        items = serializers.ListField(child=serializers.DictField(), max_length=200)

    @extend_schema(request=InputSerializer, responses=ReservationOutput)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        log.info(
            "reserve %s (correlation %s)", data.validated_data["reference"], request.headers.get("X-Correlation-ID")
        )
        result = services.reservation_reserve(**data.validated_data)
        return Response(ReservationOutput(result).data)


class ReservationReleaseApi(SagaopsApiView):
    permission_classes = [IsAuthenticated, HasDjangoPermission]
    required_permission = "inventory.change_reservation"

    @extend_schema(request=None, responses=ReservationOutput)
    def post(self, request, reference):
        log.info("release %s (correlation %s)", reference, request.headers.get("X-Correlation-ID"))
        result = services.reservation_release(reference=reference[:255])
        return Response(ReservationOutput(result).data)
