"""Log lines carry the saga id, correlation id, step and attempt; JSON with LOG_FORMAT=json."""

import json
import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from sagaops.definitions import SagaDefinition, Step, register
from sagaops.observability import context
from sagaops.observability.logging import JsonFormatter, PlainFormatter, SagaContextFilter
from sagaops.observability.middleware import CorrelationIdMiddleware
from sagaops.services import saga_advance, saga_start
from sagaops.tasks import advance

step_log = logging.getLogger("tests.observability.step")


def charge(ctx):
    step_log.info("charging the card")
    return {}


register(SagaDefinition(name="test.obs.logging", steps=[Step("reserve", lambda ctx: {}), Step("charge", charge)]))


@pytest.fixture
def logs(caplog):
    caplog.handler.addFilter(SagaContextFilter())
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.mark.django_db(transaction=True)
def test_engine_log_lines_carry_the_ids(logs, monkeypatch):
    # given: a saga this process advances itself (no worker takes it)
    monkeypatch.setattr(advance, "delay", lambda *args, **kwargs: None)
    saga, _ = saga_start(saga_type="test.obs.logging", payload={}, correlation_id="req-42")

    # when
    saga_advance(saga_id=saga.id)

    # then: the step's own line, and the engine's event lines
    charging = next(r for r in logs.records if r.getMessage() == "charging the card")
    assert (charging.saga_id, charging.correlation_id, charging.step, charging.attempt) == (
        str(saga.id),
        "req-42",
        "charge",
        1,
    )
    completed = next(r for r in logs.records if getattr(r, "event", "") == "saga_completed")
    assert (completed.saga_id, completed.correlation_id) == (str(saga.id), "req-42")
    assert context.current() == context.EMPTY


def _record(message="hello", **extra) -> logging.LogRecord:
    record = logging.LogRecord("sagaops.test", logging.WARNING, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    SagaContextFilter().filter(record)
    return record


def test_json_lines_hold_the_ids_and_extras():
    with context.bound(saga_id="s-1", correlation_id="c-1", step="pay", attempt=2):
        line = JsonFormatter().format(_record(event="step_failed"))
    entry = json.loads(line)
    assert entry["message"] == "hello" and entry["level"] == "WARNING" and entry["logger"] == "sagaops.test"
    assert (entry["saga_id"], entry["correlation_id"], entry["step"], entry["attempt"]) == ("s-1", "c-1", "pay", 2)
    assert entry["event"] == "step_failed"


def test_plain_lines_show_the_ids_only_when_known():
    with context.bound(saga_id="s-1", correlation_id="c-1", step="pay", attempt=2):
        assert "[saga=s-1 corr=c-1 step=pay attempt=2] hello" in PlainFormatter().format(_record())
    assert PlainFormatter().format(_record()).endswith("WARNING sagaops.test hello")


def test_the_correlation_id_comes_from_the_request_and_goes_back():
    seen = {}

    def view(request, saga_id):
        seen.update(correlation=context.current().correlation_id, saga=context.current().saga_id)
        return HttpResponse("ok")

    def resolve_and_call(request):  # what Django's handler does between the middleware's hooks
        return middleware.process_view(request, view, (), {"saga_id": "s-9"}) or view(request, "s-9")

    middleware = CorrelationIdMiddleware(resolve_and_call)
    response = middleware(RequestFactory().get("/", HTTP_X_CORRELATION_ID="order:17"))

    assert seen == {"correlation": "order:17", "saga": "s-9"}
    assert response["X-Correlation-ID"] == "order:17"
    assert context.current() == context.EMPTY


def test_a_missing_or_unsafe_correlation_id_is_replaced():
    middleware = CorrelationIdMiddleware(lambda request: HttpResponse("ok"))
    for given in ("", "two words\nand a newline", "x" * 300):
        response = middleware(RequestFactory().get("/", HTTP_X_CORRELATION_ID=given))
        assert len(response["X-Correlation-ID"]) == 32 and response["X-Correlation-ID"] != given
