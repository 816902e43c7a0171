"""Payments over HTTP: charges and refunds, idempotent on the caller's reference.

A refusal carries a `code` and the exception's `args` (see inventory/apis.py).
"""

from __future__ import annotations

import logging

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from payments import services
from payments.exceptions import InvalidAmount, PaymentError
from sagaops.api.public import (
    HasDjangoPermission,
    MoneyField,
    SagaopsApiView,
    StrictCharField,
    participant_refusal,
    register_error,
)


def _refusal(error: PaymentError) -> Response:
    """Malformed input names its field; the participant client rebuilds the exception from the body."""
    return participant_refusal(error, field="amount" if isinstance(error, InvalidAmount) else None)


register_error(PaymentError, _refusal)

log = logging.getLogger(__name__)


class PaymentOutput(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    customer = serializers.CharField(allow_blank=True)
    amount = serializers.CharField()
    discount = serializers.CharField()
    charged = serializers.CharField()
    coupon = serializers.CharField(allow_null=True)
    nothing_to_undo = serializers.BooleanField()


class PaymentChargeApi(SagaopsApiView):
    permission_classes = [IsAuthenticated, HasDjangoPermission]
    required_permission = "payments.add_payment"

    class InputSerializer(serializers.Serializer):
        reference = StrictCharField(max_length=255)
        customer = StrictCharField(max_length=200)
        # A decimal string ("12.50"): "1e2", "+5", "1_000" or a JSON number are 400 naming it.
        amount = MoneyField()
        coupon = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)

    @extend_schema(request=InputSerializer, responses=PaymentOutput)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        log.info("charge %s (correlation %s)", values["reference"], request.headers.get("X-Correlation-ID"))
        result = services.payment_charge(
            reference=values["reference"],
            customer=values["customer"],
            amount=values["amount"],
            coupon_code=values.get("coupon") or None,
        )
        return Response(PaymentOutput(result).data)


class PaymentRefundApi(SagaopsApiView):
    permission_classes = [IsAuthenticated, HasDjangoPermission]
    required_permission = "payments.change_payment"

    @extend_schema(request=None, responses=PaymentOutput)
    def post(self, request, reference):
        log.info("refund %s (correlation %s)", reference, request.headers.get("X-Correlation-ID"))
        return Response(PaymentOutput(services.payment_refund(reference=reference[:255])).data)
