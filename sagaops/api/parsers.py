"""Request parsing: JSON objects only, with a size limit and what PostgreSQL can store.

Python's JSON parser accepts what the database refuses later (as a 500): a lone surrogate
("\\ud800") cannot be encoded in UTF-8, U+0000 cannot be stored in text or jsonb, and nesting
deep enough to exhaust the interpreter's stack raises RecursionError. Each is a 400 here, naming
where in the body it is.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import JSONParser

# Deep enough for any real payload, far below the interpreter's recursion limit.
MAX_DEPTH = 32


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    """JSON with a size limit; a body that is not an object is refused naming what was sent."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.SAGAOPS_API_MAX_BODY_BYTES
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


def _string_problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL (\\u0000) characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain lone surrogates (e.g. \\ud800): it is not valid Unicode"
    return None


def storable_problem(data, max_depth: int = MAX_DEPTH) -> tuple[str, str] | None:
    """(path, message) of the first value PostgreSQL cannot store, or None. Iterative: a body
    nested thousands deep must not exhaust the stack here either."""
    pending: list[tuple[str, object, int]] = [("", data, 0)]
    while pending:
        path, value, depth = pending.pop()
        if depth > max_depth:
            return path or "body", f"nested deeper than {max_depth} levels"
        if isinstance(value, str):
            message = _string_problem(value)
            if message is not None:
                return path or "body", message
        elif isinstance(value, dict):
            for key, item in value.items():
                message = _string_problem(key)
                child = f"{path}.{key}" if path else key
                if message is not None:
                    return path or "body", f"key {message}"
                pending.append((child, item, depth + 1))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return None
