"""`GET /api/saga-types/`: every saga definition and version, its unfinished sagas, and the live
workers that know it (operators, `sagaops.view_saga`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from sagaops.api.permissions import HasSagaPermission
from sagaops.api.views import SagaopsApiView
from sagaops.console.heartbeat import live_workers
from sagaops.saga_types import saga_type_versions


class SagaTypeVersionOutput(serializers.Serializer):
    type = serializers.CharField()
    version = serializers.IntegerField()
    registered = serializers.BooleanField(help_text="this API process knows the definition")
    latest = serializers.BooleanField(help_text="new sagas of the type start at this version")
    choreographed = serializers.BooleanField(allow_null=True)
    in_flight = serializers.DictField(child=serializers.IntegerField(), help_text="unfinished sagas by status")
    in_flight_total = serializers.IntegerField()
    workers = serializers.ListField(child=serializers.CharField(), help_text="live workers that know it")
    unserved = serializers.BooleanField(help_text="active sagas and no live worker that knows the version")


class SagaTypesOutput(serializers.Serializer):
    workers = serializers.ListField(child=serializers.CharField())
    versions = SagaTypeVersionOutput(many=True)


class SagaTypeListApi(SagaopsApiView):
    permission_classes = [IsAuthenticated, HasSagaPermission]
    saga_permission = "view_saga"

    @extend_schema(responses={200: SagaTypesOutput})
    def get(self, request):
        document = {"workers": sorted(w.hostname for w in live_workers()), "versions": saga_type_versions()}
        return Response(SagaTypesOutput(document).data)
