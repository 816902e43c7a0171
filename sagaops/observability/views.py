"""GET /metrics: the Prometheus text exposition, optionally behind a bearer token."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from sagaops.conf import conf
from sagaops.observability.metrics import render


def _authorized(request) -> bool:
    token = conf.SAGAOPS_METRICS_TOKEN
    if not token:
        # Open only on a development machine; production without a token scrapes nothing.
        return settings.DEBUG
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@require_GET
def metrics_view(request):
    if not _authorized(request):
        response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="sagaops metrics"'
        return response
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
