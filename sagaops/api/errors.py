"""Every API error is JSON: `{"error": "...", "field": ...}` or DRF's field dict, never HTML.

The engine's and the domain's exceptions map to status codes here, so views call services and
let refusals propagate.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inventory.exceptions import InventoryError
from orders.exceptions import InvalidOrder, OrderNotFound, OrderStateError
from payments.exceptions import PaymentError
from sagaops.exceptions import (
    ActionRefused,
    IdempotencyConflict,
    InjectedFault,
    InvalidTransition,
    UnknownSagaType,
)

log = logging.getLogger(__name__)


class Forbidden(exceptions.PermissionDenied):
    """A service acting outside what its account allows."""


def error_body(message: str, **extra) -> dict:
    return {"error": message, **extra}


def error_code(error: BaseException) -> str:
    """CamelCase class name -> snake_case code: OutOfStock -> out_of_stock."""
    name = type(error).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


# The request field a participant's malformed-input refusal is about.
REFUSED_FIELDS = {"invalid_amount": "amount", "invalid_items": "items", "invalid_quantity": "items"}


def business_error_response(error: Exception, status_code: int) -> Response:
    """A participant's refusal, with enough to rebuild the same exception on the caller's side."""
    args = [a if isinstance(a, str | int | float | bool | type(None)) else str(a) for a in error.args]
    code = error_code(error)
    field = {"field": REFUSED_FIELDS[code]} if code in REFUSED_FIELDS else {}
    return Response(error_body(str(error), code=code, args=args, **field), status=status_code)


def _domain_response(error: Exception) -> Response | None:
    if isinstance(error, UnknownSagaType):
        return Response(error_body(str(error), field="type"), status=400)
    if isinstance(error, InvalidOrder):
        return Response(error_body(str(error), field=error.field), status=400)
    if isinstance(error, IdempotencyConflict):
        return Response(error_body(str(error), field="Idempotency-Key"), status=409)
    if isinstance(error, ActionRefused | InvalidTransition):
        current = getattr(error, "status", None) or getattr(error, "current", None)
        return Response(error_body(str(error), status=current), status=409)
    if isinstance(error, OrderNotFound):
        return Response(error_body(str(error)), status=404)
    if isinstance(error, OrderStateError):
        return Response(error_body(str(error), status=error.status), status=409)
    if isinstance(error, InventoryError | PaymentError):
        # Malformed input is 422, a refusal by the state of the world (stock, funds) is 409.
        return business_error_response(error, 422 if isinstance(error, ValueError) else 409)
    if isinstance(error, InjectedFault):
        return Response(error_body(str(error), code="transient"), status=503)
    return None


def exception_handler(error: Exception, context: dict) -> Response:
    if isinstance(error, ObjectDoesNotExist):
        error = exceptions.NotFound(str(error) or "not found")
    if isinstance(error, RequestDataTooBig):
        return Response(error_body(str(error)), status=413)
    if isinstance(error, SuspiciousOperation):  # too many fields, a bad header, ...
        return Response(error_body(str(error)), status=400)
    response = _domain_response(error)
    if response is not None:
        return response
    response = drf_exception_handler(error, context)
    if response is None:
        view = type(context.get("view")).__name__
        log.exception("unexpected error in %s", view, exc_info=error)
        return Response(error_body("internal error; it was logged"), status=500)
    if isinstance(response.data, list):
        response.data = error_body("; ".join(str(item) for item in response.data))
    elif not isinstance(error, exceptions.ValidationError) and set(response.data) == {"detail"}:
        # A field named "detail" stays a field error; DRF's own {"detail"} becomes {"error"}.
        response.data = error_body(str(response.data["detail"]))
    return response


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    """The catch-all under /api/: an unknown path is a JSON 404, never Django's HTML page."""
    return JsonResponse(error_body(f"no API endpoint at {request.path}"), status=404)


def _django_error(request, status: int, message: str, default_view, **kwargs):
    """Django's own error pages (a bad Host header, an error outside a DRF view): JSON under
    /api/, the usual HTML page for the console."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(message), status=status)
    return default_view(request, **kwargs)


def bad_request(request, exception=None):
    return _django_error(request, 400, "bad request", defaults.bad_request, exception=exception)


def server_error(request):
    return _django_error(request, 500, "internal error; it was logged", defaults.server_error)
