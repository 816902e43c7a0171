"""Choreographed flows: the events a saga expects, in order, and the commands that undo each.

    register_flow(Flow("order.checkout.choreographed", expects=[
        Expect("create_order", event="OrderCreated", service="orders", undo=("orders.cancel",)),
        ...
    ]))

Registering a flow registers a SagaDefinition of the same name whose steps are the expected
events: the tracker creates its Saga and SagaStep rows and moves them as the events arrive, and
the executor leaves it alone (`choreographed=True`). Force compensation in the console files a
failure report (sagaops, operator_compensate) that the supervisor's rule turns into commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sagaops.definitions import SagaDefinition, Step, StepContext, register
from sagaops.models import FailureReport

FORCE_SERVICE = "sagaops"
FORCE_CODE = "operator_compensate"


@dataclass(frozen=True)
class Expect:
    step: str  # the saga step it completes
    event: str  # the event that says it happened
    service: str  # who publishes that event
    undo: tuple[str, ...] = ()  # the commands that undo it
    pivot: bool = False


@dataclass(frozen=True)
class Flow:
    name: str
    expects: tuple[Expect, ...]
    description: str = ""
    timeout: timedelta = timedelta(minutes=10)
    # The start payload's serializer (see SagaDefinition.payload_schema).
    payload_schema: type | None = None
    _by_event: dict[str, Expect] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_event.update({e.event: e for e in self.expects})

    def expect_for_event(self, event_type: str) -> Expect | None:
        return self._by_event.get(event_type)

    def expect_for_command(self, command: str) -> Expect | None:
        """The step a command undoes, or (a retry command "<service>.<step>") re-runs."""
        step = command.partition(".")[2]
        return next((e for e in self.expects if command in e.undo or e.step == step), None)

    def step(self, name: str) -> Expect | None:
        return next((e for e in self.expects if e.step == name), None)

    @property
    def first(self) -> Expect:
        return self.expects[0]


_flows: dict[str, Flow] = {}


def _driven_by_events(ctx: StepContext) -> None:
    raise RuntimeError(f"{ctx.saga_type} is choreographed: its services run {ctx.step}, not the executor")


def force_compensate(*, saga, user, reason: str) -> None:
    """The console forced compensation: file a report for the supervisor (in the caller's transaction)."""
    detail = {"saga_id": str(saga.pk), "reason": reason, "by": user.get_username()}
    FailureReport.objects.create(
        service=FORCE_SERVICE, code=FORCE_CODE, correlation_id=saga.correlation_id, detail=detail, reported_by=user
    )


def register_flow(flow: Flow) -> Flow:
    steps = [
        Step(e.step, _driven_by_events, compensation=_driven_by_events if e.undo else None, pivot=e.pivot)
        for e in flow.expects
    ]
    definition = SagaDefinition(
        name=flow.name,
        steps=steps,
        timeout=flow.timeout,
        description=flow.description or f"Choreographed: {' -> '.join(e.event for e in flow.expects)}",
        choreographed=True,
        payload_schema=flow.payload_schema,
        on_force_compensate=force_compensate,
    )
    register(definition)
    _flows[flow.name] = flow
    return flow


def flow_for(saga_type: str) -> Flow | None:
    return _flows.get(saga_type)


def flow_types() -> list[str]:
    return sorted(_flows)


def flows() -> list[Flow]:
    return [_flows[name] for name in flow_types()]
