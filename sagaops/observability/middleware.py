"""The correlation id of a request: taken from X-Correlation-ID (or made up), bound for its logs, echoed back."""

from __future__ import annotations

import re
import uuid

from sagaops.observability import context

HEADER = "X-Correlation-ID"
# Anything else (too long, spaces, control characters) is replaced rather than logged as given.
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,200}$")


def correlation_id_from(request) -> str:
    given = request.headers.get(HEADER, "").strip()
    return given if _VALID.match(given) else uuid.uuid4().hex


class CorrelationIdMiddleware:
    """Outermost middleware: every log line of the request carries its correlation id.

    Views read it as `request.correlation_id`; a view with a `saga_id` URL argument also binds
    the saga, so the API's log lines about one saga carry its id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.correlation_id = correlation_id_from(request)
        with context.bound(correlation_id=request.correlation_id):
            response = self.get_response(request)
        response.headers.setdefault(HEADER, request.correlation_id)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        saga_id = view_kwargs.get("saga_id")
        if saga_id:
            context.bind_saga_id(saga_id)  # until the bound() in __call__ ends
        return None
