import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from project.celery import app
from sagaops.observability.models import AlertRule


class WebhookServer:
    """A small HTTP server on 127.0.0.1 that records every POST and answers with `status`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        received = self.requests
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(server.status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def documents(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook_server():
    server = WebhookServer()
    yield server
    server.close()


@pytest.fixture
def eager_celery():
    """Tasks run in this process when enqueued (a task's retry runs again at once)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def make_rule(**fields) -> AlertRule:
    values = {"name": "ops", "kind": AlertRule.Kind.SAGA_STUCK, "email_recipients": "ops@example.com", **fields}
    return AlertRule.objects.create(**values)
