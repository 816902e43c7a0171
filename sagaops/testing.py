"""A test kit for saga authors: run a saga in-process, step by step, on a fake clock.

    from sagaops.testing import SagaRun

    def test_a_declined_card_releases_the_stock(db):
        run = SagaRun(checkout, payload={"order_id": order.pk}, saga_id=saga.pk)
        run.fail("charge_payment", InsufficientFunds("pat", 10, 5))
        run.until_settled()
        assert run.status == "compensated"
        assert run.compensated == ["reserve_stock", "create_order"]

The run asks the same rules (`sagaops.rules`) the engine's executor asks, so retries, turning
back at the pivot, the deadline and the order of compensations are the engine's own; it calls
your actions and compensations directly with a real `StepContext`. It writes no saga rows and
needs no worker, broker or Redis: time passes only when the run waits (retry backoff, leases,
the deadline), and it jumps to the moment the wait ends. With `database=True` each local step
and local compensation runs in a savepoint (`transaction.atomic()`), as in the engine, so a
failing local step's writes are rolled back; use it with pytest-django's `db` fixture.

Async steps stop the run while they wait: answer with `complete(...)` or `fail_callback(...)`,
or `elapse(seconds)` past the step's timeout, then call `until_settled()` again.

As a pytest plugin (`pytest_plugins = ["sagaops.testing"]`) it provides the `saga_run` fixture,
a factory of runs.
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from sagaops import rules
from sagaops.definitions import SagaDefinition, StepContext
from sagaops.exceptions import StepTimeout
from sagaops.rules import Change, MoveKind
from sagaops.services.executor import to_json
from sagaops.states import ACTIVE_SAGA_STATUSES, StepStatus, check_saga_move, check_step_move

START = datetime(2026, 1, 1, tzinfo=UTC)
MAX_MOVES = 1000


@dataclass
class RunStep:
    index: int
    name: str
    status: str = StepStatus.PENDING
    attempts: int = 0
    compensation_attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_expires_at: datetime | None = None
    outcome_unknown: bool = False
    result: Any = None
    last_error: str = ""
    last_error_type: str = ""
    last_traceback: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass
class RunSaga:
    status: str
    deadline: datetime | None
    context: dict
    wake_at: datetime | None = None
    updated_at: datetime = START
    current_step: int = 0
    last_error: str = ""
    attention_reason: str = ""
    attention_code: str = ""
    search: dict = field(default_factory=dict)
    finished_at: datetime | None = None


@dataclass
class _Injected:
    error: BaseException
    times: int | None  # None: every attempt


@dataclass
class SagaRun:
    definition: SagaDefinition
    payload: dict = field(default_factory=dict)
    saga_id: Any = None
    now: datetime = START
    database: bool = False
    correlation_id: str = ""

    def __post_init__(self) -> None:
        self.saga_id = str(self.saga_id or uuid.uuid4())
        deadline = self.now + self.definition.timeout
        self.saga = RunSaga(status="pending", deadline=deadline, context={"payload": self.payload})
        self.steps = [RunStep(i, s.name) for i, s in enumerate(self.definition.steps)]
        self.events: list[tuple[str, str]] = []  # (kind, step) in order
        self.calls: list[tuple[str, str, int]] = []  # ("action" | "compensation", step, attempt)
        self._faults: dict[tuple[str, str], _Injected] = {}

    # --- what the test sets up ---

    def fail(self, step: str, error: BaseException, *, times: int | None = None, compensation: bool = False):
        """Make the step's action (or compensation) raise `error` on its first `times` attempts."""
        self.definition.step(step)  # a clear KeyError for a misspelt name
        self._faults[(step, "compensation" if compensation else "action")] = _Injected(error, times)
        return self

    def time_out(self, step: str, *, times: int | None = None, compensation: bool = False):
        """Make the step's action (or compensation) time out, as the engine's alarm would."""
        spec = self.definition.step(step)
        return self.fail(step, StepTimeout(step, spec.timeout), times=times, compensation=compensation)

    # --- driving it ---

    def until_settled(self) -> SagaRun:
        """Run moves until the saga is finished, stuck, or waits for an async step's callback."""
        for _ in range(MAX_MOVES):
            if not self._step_once():
                return self
        raise AssertionError(f"the saga did not settle in {MAX_MOVES} moves")

    def complete(self, step: str, result: Any = None, *, attempt: int | None = None) -> SagaRun:
        """The async step's service calls back with success."""
        return self._callback(step, rules.on_callback_complete, result=to_json(result), attempt=attempt)

    def fail_callback(self, step: str, error: str, *, retryable: bool = True, attempt: int | None = None):
        """The async step's service calls back with a failure."""
        return self._callback(step, rules.on_callback_fail, error=error, retryable=retryable, attempt=attempt)

    def elapse(self, seconds: float) -> SagaRun:
        self.now += timedelta(seconds=seconds)
        return self

    # --- what the test asserts on ---

    @property
    def status(self) -> str:
        return self.saga.status

    @property
    def results(self) -> dict[str, Any]:
        return {s.name: s.result for s in self.steps if s.status == StepStatus.SUCCEEDED}

    @property
    def compensated(self) -> list[str]:
        """The steps whose compensation succeeded, in the order they ran."""
        return [step for kind, step in self.events if kind == rules.EventKind.STEP_COMPENSATED]

    @property
    def event_kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]

    def step(self, name: str) -> RunStep:
        return self.steps[self.definition.steps.index(self.definition.step(name))]

    # --- the engine's loop, in-process ---

    def _step_once(self) -> bool:
        move = rules.next_move(
            status=self.saga.status,
            definition=self.definition,
            steps=self.steps,
            deadline=self.saga.deadline,
            now=self.now,
            exclusive=True,
        )
        step = self.steps[move.index] if move.index is not None else None
        if move.kind == MoveKind.IDLE:
            return False
        if move.kind == MoveKind.WAIT:
            if any(s.status == StepStatus.WAITING and s.lease_expires_at == move.until for s in self.steps):
                return False  # an async step waits for its callback: the test answers it
            self.now = max(self.now, move.until)
            return True
        if move.kind in (MoveKind.COMPLETE, MoveKind.COMPENSATED):
            finished = "completed" if move.kind == MoveKind.COMPLETE else "compensated"
            self._apply(rules.on_finished(finished, now=self.now))
            return False
        if move.kind == MoveKind.START_COMPENSATION:
            self._apply(rules.on_turn_back(self.steps, move.reason, now=self.now))
        elif move.kind == MoveKind.RUN:
            self._run(step)
        elif move.kind == MoveKind.EXPIRE:
            self._apply(rules.on_lease_expired(self.saga, self.definition, self.steps, step, now=self.now))
        elif move.kind == MoveKind.COMPENSATE:
            self._compensate(step)
        elif move.kind == MoveKind.EXPIRE_COMPENSATION:
            self._apply(rules.on_compensation_lease_expired(self.definition, step, now=self.now))
        return self.saga.status in ACTIVE_SAGA_STATUSES

    def _run(self, step: RunStep) -> None:
        spec = self.definition.steps[step.index]
        self._apply(rules.on_step_claimed(self.saga, self.definition, step, now=self.now))
        try:
            with self._savepoint(spec.kind):
                result = to_json(self._call("action", spec.action, step, step.attempts))
        except Exception as error:
            failure = rules.failure_of(error, spec.retry)
            change = rules.on_step_failed(
                self.saga, self.definition, self.steps, step, failure, attempts=step.attempts, now=self.now
            )
            self._apply(change)
            return
        if spec.kind == "async":
            self._apply(rules.on_step_waiting(step, result))
            return
        change = rules.on_step_succeeded(
            self.saga, self.definition, self.steps, step, result=result, attempts=step.attempts, now=self.now
        )
        self._apply(change)

    def _compensate(self, step: RunStep) -> None:
        spec = self.definition.steps[step.index]
        self._apply(rules.on_compensation_claimed(self.definition, step, now=self.now))
        attempt = step.compensation_attempts
        try:
            with self._savepoint(spec.kind):
                self._call("compensation", spec.compensation, step, attempt)
        except Exception as error:
            failure = rules.failure_of(error, spec.compensation_retry)
            self._apply(rules.on_compensation_failed(self.definition, step, failure, attempts=attempt, now=self.now))
            return
        self._apply(rules.on_compensation_succeeded(self.definition, self.steps, step, attempts=attempt, now=self.now))

    def _call(self, phase: str, function, step: RunStep, attempt: int) -> Any:
        self.calls.append((phase, step.name, attempt))
        injected = self._faults.get((step.name, phase))
        if injected is not None and (injected.times is None or attempt <= injected.times):
            raise injected.error
        key = f"{self.saga_id}:{step.name}" + (":compensate" if phase == "compensation" else "")
        return function(
            StepContext(
                saga_id=self.saga_id,
                saga_type=self.definition.name,
                step=step.name,
                payload=self.saga.context.get("payload", {}),
                results=rules.results_for(self.steps, step.index, compensating=phase == "compensation"),
                attempt=attempt,
                idempotency_key=key,
                correlation_id=self.correlation_id,
            )
        )

    def _savepoint(self, kind: str):
        return transaction.atomic() if self.database and kind == "local" else nullcontext()

    def _callback(self, step: str, rule, **kwargs) -> SagaRun:
        target = self.step(step)
        change = rule(self.saga, self.definition, self.steps, target, actor="test", now=self.now, **kwargs)
        if isinstance(change, rules.Refusal):
            raise AssertionError(f"callback refused: {change.message}")
        if change is not rules.DUPLICATE:
            self._apply(change)
        return self

    def _apply(self, change: Change) -> None:
        """What `transition()` does, in memory: check the moves, set the fields, keep the events."""
        if "status" in change.saga and change.saga["status"] != self.saga.status:
            check_saga_move(self.saga.status, change.saga["status"])
        step = self.steps[change.step_index] if change.step_index is not None else None
        if step is not None and "status" in change.step:
            check_step_move(step.status, change.step["status"])
        for name, value in change.saga.items():
            setattr(self.saga, name, value)
        self.saga.updated_at = self.now
        if step is not None:
            for name, value in change.step.items():
                setattr(step, name, value)
        self.events += [(str(e.kind), e.step) for e in change.events]


@pytest.fixture
def saga_run():
    """A factory of in-process runs: `saga_run(definition, payload=..., database=True)`."""
    return SagaRun
