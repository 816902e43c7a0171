"""Every API error is JSON: `{"error": "...", "field": ...}` or DRF's field dict, never HTML.

The engine's exceptions map to status codes here; a domain app maps its own with
`register_error(ExceptionType, to_response)` (sagaops.api.public), so views call services and let
refusals propagate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

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


def business_error_response(error: Exception, status_code: int, *, field: str | None = None) -> Response:
    """A participant's refusal, with enough to rebuild the same exception on the caller's side."""
    args = [a if isinstance(a, str | int | float | bool | type(None)) else str(a) for a in error.args]
    extra = {"field": field} if field else {}
    return Response(error_body(str(error), code=error_code(error), args=args, **extra), status=status_code)


def participant_refusal(error: Exception, *, field: str | None = None) -> Response:
    """A participant's business error: malformed input (a ValueError) is 422, a refusal by the state
    of the world (stock, funds) is 409."""
    return business_error_response(error, 422 if isinstance(error, ValueError) else 409, field=field)


ErrorResponse = Callable[[Exception], Response]
_registered: dict[type[BaseException], ErrorResponse] = {}


def register_error(exception_type: type[BaseException], to_response: ErrorResponse) -> None:
    """Answer `exception_type` (and its subclasses) raised in an API view with `to_response(error)`.

    A domain app registers the errors of its services once, beside its views; registering the same
    type again replaces the answer.
    """
    if not (isinstance(exception_type, type) and issubclass(exception_type, BaseException)):
        raise TypeError(f"register_error needs an exception class, not {exception_type!r}")
    _registered[exception_type] = to_response


def _registered_response(error: Exception) -> Response | None:
    for klass in type(error).__mro__:
        if klass in _registered:
            return _registered[klass](error)
    return None


def _domain_response(error: Exception) -> Response | None:
    if isinstance(error, UnknownSagaType):
        return Response(error_body(str(error), field="type"), status=400)
    if isinstance(error, IdempotencyConflict):
        return Response(error_body(str(error), field="Idempotency-Key"), status=409)
    if isinstance(error, ActionRefused | InvalidTransition):
        current = getattr(error, "status", None) or getattr(error, "current", None)
        return Response(error_body(str(error), status=current), status=409)
    if isinstance(error, InjectedFault):
        return Response(error_body(str(error), code="transient"), status=503)
    return _registered_response(error)


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
