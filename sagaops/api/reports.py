"""Failure reports: a failing service says (service, code); the supervisor acts on them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from sagaops.api.permissions import require_may_report
from sagaops.api.selectors import report_saga
from sagaops.api.services import failure_report_create
from sagaops.api.views import SagaopsApiView


class FailureReportCreateApi(SagaopsApiView):
    class InputSerializer(serializers.Serializer):
        service = serializers.CharField(max_length=150)
        code = serializers.CharField(max_length=100)
        correlation_id = serializers.CharField(max_length=200, allow_blank=True)
        detail = serializers.DictField(required=False, default=dict)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        service = serializers.CharField()
        code = serializers.CharField()
        correlation_id = serializers.CharField()
        detail = serializers.DictField()
        received_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        require_may_report(request.user, values["service"], report_saga(values["correlation_id"], values["detail"]))
        report = failure_report_create(user=request.user, **data.validated_data)
        return Response(self.OutputSerializer(report).data, status=status.HTTP_201_CREATED)
