"""OpenTelemetry spans for sagas and their steps, through the official `opentelemetry-api`.

The engine depends on the API only: without an SDK configured by the project every span is a
no-op, yet a W3C `traceparent` a caller sent is still passed on. With one (the project sets a
TracerProvider, e.g. opentelemetry-sdk with an OTLP exporter), there is one span per saga start
(`saga.start <type>`) and one per step attempt or compensation attempt (`saga.step <name>`).

A saga outlives the request that started it: the start span's context is stored with the saga
(`context["trace"]`, a W3C carrier) and every step span, in whichever worker, is its child. The
API takes the caller's `traceparent` for the duration of each request (sagaops.api.views), and a
remote step's participant client passes the current one on with `opentelemetry.propagate.inject`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

tracer = trace.get_tracer("sagaops")


@contextmanager
def request_context(headers: Mapping[str, str]) -> Iterator[None]:
    """The caller's trace context (its `traceparent`, `tracestate`) current within the block."""
    token = otel_context.attach(propagate.extract({k.lower(): v for k, v in headers.items()}))
    try:
        yield
    finally:
        otel_context.detach(token)


def current_carrier() -> dict[str, str]:
    """The current trace context as W3C headers ({} when there is none)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def saga_start_span(saga_type: str) -> Iterator[trace.Span]:
    with tracer.start_as_current_span(f"saga.start {saga_type}", attributes={"saga.type": saga_type}) as span:
        yield span


@contextmanager
def step_span(saga, step, *, phase: str, attempt: int) -> Iterator[trace.Span]:
    """A step attempt (phase "action" or "compensation"), a child of the saga's start span."""
    parent = propagate.extract(saga.context.get("trace") or {})
    attributes = {
        "saga.id": str(saga.pk),
        "saga.type": saga.type,
        "saga.step": step.name,
        "saga.step.phase": phase,
        "saga.step.attempt": attempt,
    }
    with tracer.start_as_current_span(f"saga.step {step.name}", context=parent, attributes=attributes) as span:
        yield span
