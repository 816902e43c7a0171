"""Orders over HTTP: place one (which starts its checkout saga) and read it back."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from orders.exceptions import InvalidOrder, OrderNotFound, OrderStateError
from orders.selectors import order_get
from orders.services import CHECKOUT_MODES, MAX_QUANTITY, checkout_saga_type, order_place
from sagaops.api.public import (
    IDEMPOTENCY_HEADER,
    SagaLinkOutput,
    SagaopsApiView,
    StrictCharField,
    StrictIntegerField,
    error_body,
    readable_sagas,
    register_error,
    require_may_start,
    saga_link,
    saga_status,
    scoped_idempotency_key,
)


def _invalid_order(error: InvalidOrder) -> Response:
    return Response(error_body(str(error), field=error.field), status=400)


def _order_not_found(error: OrderNotFound) -> Response:
    return Response(error_body(str(error)), status=404)


def _order_state(error: OrderStateError) -> Response:
    return Response(error_body(str(error), status=error.status), status=409)


register_error(InvalidOrder, _invalid_order)
register_error(OrderNotFound, _order_not_found)
register_error(OrderStateError, _order_state)

CORRELATION_HEADER = OpenApiParameter("X-Correlation-ID", str, OpenApiParameter.HEADER)


class OrderItemInput(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    # The limit holds per product: order_place refuses duplicate lines that add up to more.
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class OrderSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)


def _saga_link(request, saga_id) -> dict | None:
    """The order's saga; its status from the mirror, else the database."""
    if saga_id is None:
        return None
    current = saga_status(saga_id=saga_id) or {}
    return saga_link(request, saga_id, current.get("status", "pending"))


class OrderPlaceApi(SagaopsApiView):
    class InputSerializer(serializers.Serializer):
        customer = StrictCharField(max_length=200)
        items = serializers.ListField(child=OrderItemInput(), min_length=1, max_length=200)
        coupon = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
        # Default: settings.SAGAOPS_CHECKOUT_MODE.
        mode = serializers.ChoiceField(choices=list(CHECKOUT_MODES), required=False)

    class OutputSerializer(serializers.Serializer):
        order = OrderSummaryOutput()
        saga = SagaLinkOutput()

    @extend_schema(
        request=InputSerializer, parameters=[IDEMPOTENCY_HEADER, CORRELATION_HEADER], responses={202: OutputSerializer}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        require_may_start(request.user, checkout_saga_type(data.validated_data.get("mode")))
        order, saga = order_place(
            **data.validated_data,
            idempotency_key=scoped_idempotency_key(request),
            correlation_id=request.headers.get("X-Correlation-ID", "")[:200],
            started_by=request.user,
        )
        body = {"order": order, "saga": saga_link(request, saga.pk, saga.status)}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class OrderLineOutput(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)


class OrderDetailApi(SagaopsApiView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        customer = serializers.CharField()
        status = serializers.CharField()
        total = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="the subtotal, before a coupon")
        subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
        discount = serializers.DecimalField(max_digits=12, decimal_places=2)
        charged = serializers.DecimalField(
            max_digits=12, decimal_places=2, allow_null=True, help_text="what the payment charged; null until confirmed"
        )
        coupon = serializers.CharField()
        items = OrderLineOutput(many=True)
        saga = SagaLinkOutput(allow_null=True)
        created = serializers.DateTimeField()
        updated = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request, order_id):
        """An order is its checkout saga's: a service reads the orders it placed, an operator all."""
        order = order_get(order_id=order_id)
        if order.saga_id is None or not readable_sagas(request.user).filter(pk=order.saga_id).exists():
            raise OrderNotFound(order_id)
        body = {
            "id": order.pk,
            "customer": order.customer,
            "status": order.status,
            "total": order.total,
            "subtotal": order.total,
            "discount": order.discount,
            "charged": order.charged,
            "coupon": order.coupon,
            "items": list(order.lines.all()),
            "saga": _saga_link(request, order.saga_id),
            "created": order.created,
            "updated": order.updated,
        }
        return Response(self.OutputSerializer(body).data)
