"""OpenTelemetry spans for sagas and steps, and W3C trace context in and out.

sagaops depends only on `opentelemetry-api`: without an SDK every span is a no-op. A deployment
that wants traces installs `opentelemetry-sdk` (and an exporter) and sets
`SAGAOPS_TRACE_EXPORTER` (`configure()`), or configures a TracerProvider itself.

- An API request's `traceparent` (W3C Trace Context) is made current by the API's views
  (`sagaops.api.views.SagaopsApiView`), unless an instrumentation already started a server span.
- Starting a saga stores the current trace context in `Saga.context["trace"]`, so every later
  run, in any worker and after any restart, continues the caller's trace.
- Each executor run is a span `sagaops advance <type>`, a child of the stored context; each move
  on a step is a span `sagaops <move> <step>` under it (a run of local steps: siblings, not a
  chain), with the saga's events as span events and a failure as the span's status.
- A remote step sends the current context on (`outgoing_headers`), so the participant's spans
  join the saga's trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import ImproperlyConfigured
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, Status, StatusCode

from sagaops.conf import conf

tracer = trace.get_tracer("sagaops")

# The span of the executor run in progress, and which saga it is for.
_run: ContextVar[tuple[str, Span] | None] = ContextVar("sagaops_run_span", default=None)

FAILURE_EVENTS = frozenset({"step_failed", "compensation_failed", "saga_stuck"})


def trace_carrier() -> dict[str, str]:
    """The current trace context as W3C headers ({"traceparent": ...}), or {} outside a trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def request_trace(headers) -> Iterator[None]:
    """Make the request's incoming trace context current (no-op under an instrumented server span)."""
    if trace.get_current_span().get_span_context().is_valid:
        yield
        return
    token = otel_context.attach(propagate.extract(headers))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def run_span(saga) -> Iterator[None]:
    """A span for one executor run on a saga; nested scopes on the same saga reuse it."""
    saga_id = str(saga.pk)
    current = _run.get()
    if current is not None and current[0] == saga_id:
        yield
        return
    parent = propagate.extract((saga.context or {}).get("trace") or {})
    attributes = {"sagaops.saga.id": saga_id, "sagaops.saga.type": saga.type, "sagaops.saga.status": saga.status}
    with tracer.start_as_current_span(f"sagaops advance {saga.type}", context=parent, attributes=attributes) as span:
        token = _run.set((saga_id, span))
        try:
            yield
        finally:
            _run.reset(token)


@contextmanager
def step_span(saga, step_name: str, move: str, attempt: int | None) -> Iterator[None]:
    """A span for one move on a step, a child of the run's span (also inside a run of local steps)."""
    current = _run.get()
    parent = trace.set_span_in_context(current[1]) if current is not None else None
    attributes = {"sagaops.saga.id": str(saga.pk), "sagaops.step": step_name, "sagaops.move": move}
    if attempt is not None:
        attributes["sagaops.attempt"] = attempt
    with tracer.start_as_current_span(f"sagaops {move} {step_name}", context=parent, attributes=attributes):
        yield


def record_events(events) -> None:
    """The saga's events as events of the current span; a failure sets its status."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    for event in events:
        attributes = {"sagaops.step": event.step} if getattr(event, "step", None) else {}
        span.add_event(event.kind, attributes=attributes)
        if event.kind in FAILURE_EVENTS:
            span.set_status(Status(StatusCode.ERROR, (getattr(event, "detail", None) or {}).get("error", "")[:200]))


def configure() -> None:
    """Install an SDK TracerProvider with the exporter `SAGAOPS_TRACE_EXPORTER` names, if any."""
    name = conf.SAGAOPS_TRACE_EXPORTER
    if not name:
        return
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError as error:
        raise ImproperlyConfigured("SAGAOPS_TRACE_EXPORTER needs the opentelemetry-sdk package") from error
    if name == "console":
        exporter = ConsoleSpanExporter()
    elif name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as error:
            raise ImproperlyConfigured(
                "SAGAOPS_TRACE_EXPORTER=otlp needs the opentelemetry-exporter-otlp-proto-http package"
            ) from error
        exporter = OTLPSpanExporter()  # endpoint and headers from the standard OTEL_EXPORTER_OTLP_* variables
    else:
        raise ImproperlyConfigured(f"SAGAOPS_TRACE_EXPORTER must be '', 'console' or 'otlp', not {name!r}")
    service = conf.SAGAOPS_SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
