"""The edges of HTTP that Django does not see: chunked request bodies and gunicorn's own errors.

- A chunked request has no Content-Length; gunicorn de-chunks it, but Django reads a body of
  Content-Length bytes, so the body arrived empty. `ChunkedBodyApp` reads it (at most one byte
  past the API's limit, so an oversized body is still a 413) and sets the length.
- gunicorn refuses a malformed or over-long request line or header itself, before Django, with
  an HTML page. `json_write_error` replaces that page with the API's JSON error body.
"""

from __future__ import annotations

import io
import json

from gunicorn.util import write_nonblock

from sagaops.conf import conf


class ChunkedBodyApp:
    """WSGI wrapper: give Django a Content-Length for a de-chunked request body."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read(conf.SAGAOPS_API_MAX_BODY_BYTES + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def json_write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error with a JSON body, as every other API error has."""
    body = json.dumps({"error": f"{reason}: {mesg}" if mesg else reason}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    write_nonblock(sock, head.encode("latin1") + body)
