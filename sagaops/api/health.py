"""Health: PostgreSQL, Redis, the broker and live workers; 503 when one of them is down."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from sagaops.api.views import SagaopsApiView
from sagaops.redis import get_redis

log = logging.getLogger(__name__)


def _postgresql() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _redis() -> dict:
    get_redis().ping()
    return {"ok": True}


def _broker() -> dict:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
    return {"ok": True}


def _workers() -> dict:
    replies = current_app.control.ping(timeout=0.5) or []
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "workers": names, **({} if names else {"error": "no worker answered"})}


CHECKS = {"postgresql": _postgresql, "redis": _redis, "broker": _broker, "workers": _workers}


def health_check() -> dict:
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # a down dependency is the answer, not a failure of this view
            log.warning("health check %s failed: %s", name, error)
            results[name] = {"ok": False, "error": str(error) or type(error).__name__}
    return results


class HealthCheckOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False)
    workers = serializers.ListField(child=serializers.CharField(), required=False)


class HealthApi(SagaopsApiView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        ok = serializers.BooleanField()
        checks = serializers.DictField(child=HealthCheckOutput())

    @extend_schema(responses={200: OutputSerializer, 503: OutputSerializer})
    def get(self, request):
        checks = health_check()
        ok = all(check["ok"] for check in checks.values())
        return Response({"ok": ok, "checks": checks}, status=200 if ok else 503)
