"""The base of every sagaops API view: it secures itself, whatever the host's REST_FRAMEWORK says.

Authentication (service and operator tokens, the console session), "authenticated" as the least
permission, the size-limited JSON parser, JSON answers, the OpenAPI schema class and the JSON
error handler are set per view, so a host's DRF defaults (which allow anonymous requests) never
apply to the engine's endpoints; the caller's W3C trace context is taken for each request.
Throttling stays the host's (REST_FRAMEWORK's throttle classes).
"""

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from sagaops.api.authentication import TokenAuthentication
from sagaops.api.errors import exception_handler
from sagaops.api.parsers import LimitedJSONParser
from sagaops.api.schema import AutoSchema
from sagaops.observability.tracing import request_trace


class SagaopsApiView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer]
    schema = AutoSchema()

    def get_exception_handler(self):
        return exception_handler

    def dispatch(self, request, *args, **kwargs):
        # The caller's W3C traceparent is the parent of what this request starts (a saga's span).
        with request_trace(request.headers):
            return super().dispatch(request, *args, **kwargs)
