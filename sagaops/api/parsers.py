"""Request parsing: JSON objects only, with a size limit and what PostgreSQL can store.

Python's JSON parser accepts what the database refuses later (as a 500): a lone surrogate
("\\ud800") cannot be encoded in UTF-8, U+0000 cannot be stored in text or jsonb, and nesting
deep enough to exhaust the interpreter's stack raises RecursionError. Each is a 400 here, naming
where in the body it is.
"""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import JSONParser

from sagaops.conf import conf
from sagaops.storable import MAX_DEPTH, storable_problem


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    """JSON with a size limit; a body that is not an object is refused naming what was sent."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = conf.SAGAOPS_API_MAX_BODY_BYTES
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > limit:
            raise RequestTooLarge(f"request body is {length} bytes; the limit is {limit}")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels") from None
        if not isinstance(data, dict):
            raise ParseError(f"the request body must be a JSON object, not {type(data).__name__}")
        problem = storable_problem(data)
        if problem is not None:
            where, message = problem
            raise ValidationError({where: [message]})
        return data
