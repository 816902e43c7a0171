"""OpenTelemetry: a saga started by a traced request continues that trace, run by run and step by step.

The executor runs in-process here so that the SDK's in-memory exporter sees its spans; the saga,
its steps and the mirror are the real PostgreSQL and Redis.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sagaops.models import Saga
from sagaops.observability.context import outgoing_headers, step_scope
from sagaops.observability.tracing import configure
from sagaops.services import saga_advance
from tests.sagas import calls

pytestmark = pytest.mark.django_db

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def sdk():
    """One SDK provider for the process (OpenTelemetry lets the global provider be set once)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))


@pytest.fixture
def spans():
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _start(service, **headers) -> Saga:
    body = {"type": "test.flow", "payload": {"fail": {"c": "business"}}}
    response = service.post("/api/sagas/", body, format="json", **headers)
    assert response.status_code == 201, response.content
    return Saga.objects.get(pk=response.json()["id"])


def test_a_saga_continues_the_trace_of_the_request_that_started_it(service, spans):
    saga = _start(service, HTTP_TRACEPARENT=TRACEPARENT)
    assert saga.context["trace"]["traceparent"].split("-")[1] == TRACE_ID

    saga_advance(saga_id=saga.pk)
    saga.refresh_from_db()
    assert saga.status == "compensated"
    assert calls(saga.pk) == ["fail:a:1", "fail:b:1", "fail:c:1", "comp:b:1", "comp:a:1"]

    finished = spans.get_finished_spans()
    run = next(s for s in finished if s.name == "sagaops advance test.flow")
    assert format(run.context.trace_id, "032x") == TRACE_ID
    assert format(run.parent.span_id, "016x") == CALLER_SPAN  # the caller's span is the parent
    assert run.attributes["sagaops.saga.id"] == str(saga.pk)

    steps = [s for s in finished if s.name.startswith("sagaops ") and s is not run]
    # Every move on a step is a child of the run (the local run a, b, c included), in order.
    assert [s.name for s in steps] == [
        "sagaops run a",
        "sagaops run b",
        "sagaops run c",
        "sagaops compensate b",
        "sagaops compensate a",
    ]
    assert {s.parent.span_id for s in steps} == {run.context.span_id}
    assert {s.context.trace_id for s in steps} == {run.context.trace_id}
    failed = next(s for s in steps if s.name == "sagaops run c")
    assert failed.status.status_code == trace.StatusCode.ERROR
    assert "step_failed" in [e.name for e in failed.events]
    assert failed.attributes["sagaops.attempt"] == 1


def test_a_saga_started_outside_a_trace_starts_its_own(service, spans):
    saga = _start(service)
    assert "trace" not in saga.context
    saga_advance(saga_id=saga.pk)
    run = next(s for s in spans.get_finished_spans() if s.name == "sagaops advance test.flow")
    assert run.parent is None
    assert format(run.context.trace_id, "032x") != TRACE_ID


def test_a_remote_step_passes_its_span_on_in_traceparent(service, spans):
    saga = _start(service, HTTP_TRACEPARENT=TRACEPARENT)
    steps = list(saga.steps.order_by("index"))
    move = type("Move", (), {"kind": "run", "index": 1})()
    with step_scope(saga, steps, move):
        headers = outgoing_headers()
        current = trace.get_current_span().get_span_context()
    version, trace_id, span_id, flags = headers["traceparent"].split("-")
    assert (trace_id, span_id) == (TRACE_ID, format(current.span_id, "016x"))
    assert span_id != CALLER_SPAN


def test_an_unknown_exporter_is_a_configuration_error(settings):
    settings.SAGAOPS_TRACE_EXPORTER = "jaeger"
    with pytest.raises(ImproperlyConfigured, match="SAGAOPS_TRACE_EXPORTER must be '', 'console' or 'otlp'"):
        configure()
