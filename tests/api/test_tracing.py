"""OpenTelemetry: a span per saga start and per step attempt, in the caller's trace (W3C
traceparent on the API request), and the trace passed on to remote participants. The spans are
read back from the SDK's in-memory exporter."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from orders import participants
from sagaops.models import Saga
from sagaops.observability.tracing import tracer
from sagaops.services import saga_advance

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def sdk():
    """The project configures an SDK (here: once per process, spans kept in memory)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


@pytest.fixture(autouse=True)
def spans():
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def test_the_saga_and_its_steps_are_spans_in_the_callers_trace(service, spans):
    answer = service.post(
        "/api/sagas/", {"type": "test.flow", "payload": {}}, format="json", HTTP_TRACEPARENT=TRACEPARENT
    )
    assert answer.status_code == 201, answer.content
    saga_id = answer.json()["id"]
    for _ in range(5):
        saga_advance(saga_id=saga_id)
        if Saga.objects.get(pk=saga_id).status == "completed":
            break
    assert Saga.objects.get(pk=saga_id).status == "completed"

    finished = spans.get_finished_spans()
    [start] = [s for s in finished if s.name == "saga.start test.flow"]
    assert format(start.context.trace_id, "032x") == TRACE_ID
    assert format(start.parent.span_id, "016x") == CALLER_SPAN
    assert start.attributes["saga.id"] == saga_id
    steps = [s for s in finished if s.name.startswith("saga.step ")]
    assert [s.name for s in steps] == [f"saga.step {name}" for name in "abcde"]
    for step in steps:
        assert step.context.trace_id == start.context.trace_id
        assert step.parent.span_id == start.context.span_id
        assert step.attributes["saga.id"] == saga_id and step.attributes["saga.step.phase"] == "action"


def test_a_failed_attempt_is_an_error_span_and_compensations_have_theirs(service, spans):
    payload = {"fail": {"c": "business"}}
    answer = service.post("/api/sagas/", {"type": "test.flow", "payload": payload}, format="json")
    saga_id = answer.json()["id"]
    for _ in range(10):
        saga_advance(saga_id=saga_id)
        if Saga.objects.get(pk=saga_id).status == "compensated":
            break
    assert Saga.objects.get(pk=saga_id).status == "compensated"
    finished = spans.get_finished_spans()
    [failed] = [s for s in finished if s.name == "saga.step c" and s.attributes["saga.step.phase"] == "action"]
    assert failed.status.status_code == trace.StatusCode.ERROR
    assert any(e.name == "exception" for e in failed.events)
    undone = [s.attributes["saga.step"] for s in finished if s.attributes.get("saga.step.phase") == "compensation"]
    assert undone[-2:] == ["b", "a"]


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802
        self.seen.append(dict(self.headers))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"reference": "r", "items": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_remote_participant_gets_the_steps_traceparent(settings):
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SAGAOPS_PARTICIPANTS_URL = f"http://127.0.0.1:{server.server_port}"
    try:
        with tracer.start_as_current_span("saga.step reserve_stock") as span:
            participants.reserve_stock("saga:reserve_stock", [{"sku": "X", "quantity": 1}])
    finally:
        server.shutdown()
    [headers] = _Recorder.seen
    traceparent = {k.lower(): v for k, v in headers.items()}["traceparent"]
    assert traceparent.split("-")[1] == format(span.get_span_context().trace_id, "032x")
    assert traceparent.split("-")[2] == format(span.get_span_context().span_id, "016x")
