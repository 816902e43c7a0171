"""Sagas: start one, list them, read one (mirror first), read its timeline."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from sagaops.api.idempotency import scoped_idempotency_key
from sagaops.api.pagination import NewestFirst, Timeline
from sagaops.api.permissions import readable_sagas, require_may_read, require_may_start
from sagaops.api.selectors import saga_document, saga_document_from_db, saga_events
from sagaops.api.serializers import EventOutput, SagaDetailOutput, SagaSummaryOutput
from sagaops.api.views import SagaopsApiView
from sagaops.definitions import get_definition
from sagaops.selection import SagaFilterInput, saga_filter
from sagaops.services import saga_start

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, description="Replays return the first answer"
)


class SagaListApi(SagaopsApiView):
    """GET lists the sagas the caller may read, newest first (cursor-paginated); POST starts one."""

    pagination_class = NewestFirst  # for the schema

    class FilterSerializer(SagaFilterInput):
        cursor = serializers.CharField(required=False)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=NewestFirst.max_page_size)

    class InputSerializer(serializers.Serializer):
        type = serializers.CharField(max_length=100)
        payload = serializers.DictField()
        correlation_id = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

        def validate_type(self, value: str) -> str:
            get_definition(value)  # UnknownSagaType -> 400 naming the type
            return value

        def validate(self, attrs: dict) -> dict:
            # The definition's own schema: a payload the steps cannot use is refused here, not
            # discovered by a worker (and the on-call) later.
            schema = get_definition(attrs["type"]).payload_schema
            if schema is not None:
                payload = schema(data=attrs["payload"])
                if not payload.is_valid():
                    raise serializers.ValidationError({"payload": payload.errors})
            return attrs

    @extend_schema(parameters=[FilterSerializer], responses=SagaSummaryOutput(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = NewestFirst()
        sagas = saga_filter(readable_sagas(request.user), filters.validated_data)
        page = paginator.paginate_queryset(sagas, request, view=self)
        return paginator.get_paginated_response(SagaSummaryOutput(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: SagaDetailOutput, 200: SagaDetailOutput},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        require_may_start(request.user, data.validated_data["type"])
        saga, created = saga_start(
            saga_type=data.validated_data["type"],
            payload=data.validated_data["payload"],
            idempotency_key=scoped_idempotency_key(request),
            correlation_id=data.validated_data["correlation_id"],
            started_by=request.user,
        )
        document = saga_document_from_db(saga_id=saga.pk)
        return Response(document, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class SagaDetailApi(SagaopsApiView):
    """The saga as services see it: from the Redis mirror while it is fresh, else the database."""

    @extend_schema(responses=SagaDetailOutput)
    def get(self, request, saga_id):
        require_may_read(request.user, saga_id)
        document, source = saga_document(saga_id=saga_id)
        return Response(document, headers={"X-Sagaops-Source": source})


class SagaEventListApi(SagaopsApiView):
    """The saga's timeline, oldest first."""

    pagination_class = Timeline  # for the schema

    class FilterSerializer(serializers.Serializer):
        cursor = serializers.CharField(required=False)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=Timeline.max_page_size)

    @extend_schema(parameters=[FilterSerializer], responses=EventOutput(many=True))
    def get(self, request, saga_id):
        self.FilterSerializer(data=request.query_params).is_valid(raise_exception=True)
        require_may_read(request.user, saga_id)
        paginator = Timeline()
        page = paginator.paginate_queryset(saga_events(saga_id=saga_id), request, view=self)
        return paginator.get_paginated_response(EventOutput(page, many=True).data)
