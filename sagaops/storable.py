"""What PostgreSQL can store of a JSON value, checked before it is written.

Python's json module accepts what the database refuses later, as an error deep in a write: a
lone surrogate ("\\ud800") cannot be encoded in UTF-8, U+0000 cannot be stored in text or
jsonb, NaN and Infinity are not JSON, and nesting thousands deep exhausts the interpreter's
stack. The API's parser and the console's JSON fields both ask `storable_problem` and
`json_loads_storable`, and answer the operator or the client with where the problem is.
"""

from __future__ import annotations

import json

# Deep enough for any real payload, far below the interpreter's recursion limit.
MAX_DEPTH = 32


class UnstorableJSON(ValueError):
    """The text is not JSON that PostgreSQL can store; `path` says where (empty: the whole text)."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def json_loads_storable(text: str):
    """json.loads that refuses NaN/Infinity, deep nesting, NUL and lone surrogates."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise UnstorableJSON(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError is one
        raise UnstorableJSON(f"not valid JSON: {error}") from None
    problem = storable_problem(value)
    if problem is not None:
        raise UnstorableJSON(problem[1], problem[0])
    return value


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
