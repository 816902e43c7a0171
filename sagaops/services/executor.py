"""Advancing a saga: decide the next move, carry it out under the version fence, checkpoint it.

One `saga_advance` runs consecutive ready steps in one go, with a checkpoint after each; it
returns to the broker only to wait (a retry delay, an async callback, a lease).
"""

from __future__ import annotations

import copy
import json
import logging
import time
import traceback
from datetime import timedelta
from functools import partial
from typing import Any

import redis
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from sagaops import mirror
from sagaops.definitions import SagaDefinition, Step, StepContext, get_definition
from sagaops.exceptions import ConcurrentUpdate, StepTimeout, UnknownSagaType
from sagaops.models import Saga, SagaStep
from sagaops.observability.context import saga_scope, step_scope
from sagaops.planner import ABANDON_STEP, Move, needs_compensation, next_move, pivot_passed, unsettled_step
from sagaops.services.transitions import Event, after_commit, set_wake, transition
from sagaops.states import ACTIVE_SAGA_STATUSES, SagaStatus, StepStatus
from sagaops.timeouts import step_timeout

log = logging.getLogger(__name__)

MAX_MOVES_PER_RUN = 200
# A lease outlives the step's own timeout, so the in-process alarm normally fires first.
LEASE_MARGIN = timedelta(seconds=5)
LOCK_TTL_SECONDS = 15.0
LOCK_BUSY_RETRY = timedelta(seconds=1)
UNKNOWN_TYPE_RETRY = timedelta(seconds=30)
LOCAL_RUN_SECONDS = 0.5


def saga_advance(*, saga_id) -> None:
    saga, steps = _load(saga_id)
    if saga is None or saga.status not in ACTIVE_SAGA_STATUSES:
        return
    try:
        definition = get_definition(saga.type, saga.definition_version)
    except UnknownSagaType:
        # A worker from an older (or other) deploy: leave the saga, untouched, to one that knows it.
        log.error("saga %s is a %s v%s, which this worker does not know", saga.pk, saga.type, saga.definition_version)
        set_wake(saga, timezone.now() + UNKNOWN_TYPE_RETRY)
        return
    token = _lock(saga)
    if token is False:
        return
    try:
        with saga_scope(saga):  # log lines carry the saga's ids
            Executor(saga, steps, definition).run()
    finally:
        if token:
            _unlock(saga, token)


def _load(saga_id) -> tuple[Saga | None, list[SagaStep]]:
    """The saga and its steps in one query, from one snapshot (the steps joined to their saga).

    Read before the lock: a run that finishes in between only makes this version stale, and the
    fence turns the first write away.
    """
    steps = list(SagaStep.objects.select_related("saga").filter(saga_id=saga_id).order_by("index"))
    if not steps:
        return Saga.objects.filter(pk=saga_id).first(), []
    saga = steps[0].saga
    for step in steps:
        step.saga = saga
    return saga, steps


def _lock(saga: Saga) -> str | bool | None:
    """The Redis lock is only a fast path in front of the fence: without Redis, go on unlocked."""
    try:
        token = mirror.lock_acquire(saga.pk, LOCK_TTL_SECONDS)
    except redis.RedisError:
        return None
    if token is None:
        # Another executor is on it; look again shortly in case it is just finishing.
        try:
            mirror.timer_set(saga.pk, timezone.now() + LOCK_BUSY_RETRY)
        except redis.RedisError:
            log.warning("could not arm the timer of saga %s; the reconcile pass re-arms it", saga.pk)
        return False
    return token


def _unlock(saga: Saga, token: str) -> None:
    try:
        mirror.lock_release(saga.pk, token)
    except redis.RedisError:
        log.warning("could not release the lock of saga %s; it expires by itself", saga.pk)


def to_json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def error_fields(error: BaseException) -> dict[str, str]:
    kind = type(error)
    return {
        "last_error": (str(error) or kind.__name__)[:2000],
        "last_error_type": f"{kind.__module__}.{kind.__qualname__}",
        "last_traceback": "".join(traceback.format_exception(error))[-8000:],
    }


def is_retryable(policy, error: BaseException) -> bool:
    return policy.is_retryable(error) and getattr(error, "retryable", True)


class Executor:
    def __init__(self, saga: Saga, steps: list[SagaStep], definition: SagaDefinition | None = None):
        self.saga = saga
        self.steps = steps
        self.definition = definition or get_definition(saga.type, saga.definition_version)
        self.running_index = 0  # the local step a run is executing
        self.run_events: list[Event] | None = None  # a local run's events, published at its commit

    # --- the loop ---

    def run(self) -> None:
        for _ in range(MAX_MOVES_PER_RUN):
            move = self.next_move()
            try:
                if self.is_local_run(move):
                    self.run_local_run(move)
                    continue
                with step_scope(self.saga, self.steps, move):  # ... and the step's name and attempt
                    if not self.perform(move):
                        return
            except ConcurrentUpdate:
                log.info(
                    "saga %s moved under us (version %s); leaving it to its new owner", self.saga.pk, self.saga.version
                )
                return
        set_wake(self.saga, timezone.now())  # an unusually long run: continue in a new task

    def is_local_run(self, move: Move) -> bool:
        return move.kind == "run" and self.step_def(self.steps[move.index]).kind == "local"

    def run_local_run(self, move: Move) -> None:
        try:
            with transaction.atomic():
                self.run_events = []
                try:
                    self.run_locals(move)
                    # The run commits once: mirror its final state and all its events once.
                    transaction.on_commit(partial(after_commit, copy.copy(self.saga), self.run_events, False))
                finally:
                    self.run_events = None
        except ConcurrentUpdate:
            raise
        except (DatabaseError, TransactionManagementError) as error:
            # The run's transaction itself broke (a step interrupted inside a query, say) and was
            # rolled back whole: record the failure of the step that broke it, on a fresh start.
            self.reload()
            step = self.steps[self.running_index]
            self.step_failed(step, error, attempts=step.attempts + 1)

    def run_locals(self, move: Move) -> None:
        """Run consecutive ready local steps in the caller's transaction, each in its own savepoint.

        Their effects live in this database, so one commit for the run keeps each exactly once (a
        crash rolls the whole run back and it is redone) and costs one fsync instead of one per step.
        The run stays open at most LOCAL_RUN_SECONDS, so progress shows up while a long saga runs.
        """
        opened = time.monotonic()
        while self.is_local_run(move) and time.monotonic() - opened < LOCAL_RUN_SECONDS:
            self.running_index = move.index
            with step_scope(self.saga, self.steps, move):
                self.run_local(self.steps[move.index])
            move = self.next_move()

    def transition(self, **changes) -> None:
        """The fenced write, its mirror publication deferred to the end of a local run."""
        transition(self.saga, published_by_caller=self.run_events, **changes)

    def next_move(self) -> Move:
        return next_move(
            status=self.saga.status,
            definition=self.definition,
            steps=self.steps,
            deadline=self.saga.deadline,
            now=timezone.now(),
        )

    def perform(self, move: Move) -> bool:
        """Carry out one move; False when this run should stop."""
        if move.kind == "wait":
            set_wake(self.saga, move.until)
            return False
        if move.kind == "idle":
            return False
        if move.kind == "complete":
            self.finish(SagaStatus.COMPLETED, "saga_completed")
            return False
        if move.kind == "compensated":
            self.finish(SagaStatus.COMPENSATED, "saga_compensated")
            return False
        if move.kind == "start_compensation":
            self.turn_back(move.reason)
        elif move.kind == "run":  # a remote or async step; local ones run in run_locals
            self.run_remote(self.steps[move.index])
        elif move.kind == "expire":
            step = self.steps[move.index]
            self.step_failed(step, StepTimeout(step.name, self.step_def(step).timeout), attempts=step.attempts)
        elif move.kind == "compensate":
            self.compensate_step(self.steps[move.index])
        elif move.kind == "expire_comp":
            step = self.steps[move.index]
            timeout = StepTimeout(f"{step.name} compensation", self.step_def(step).timeout)
            self.compensation_failed(step, timeout, attempts=step.compensation_attempts)
        return True

    # --- helpers ---

    def step_def(self, step: SagaStep) -> Step:
        return self.definition.steps[step.index]

    def context(self, step: SagaStep, *, attempt: int, compensating: bool = False) -> StepContext:
        key = f"{self.saga.pk}:{step.name}" + (":compensate" if compensating else "")
        return StepContext(
            saga_id=str(self.saga.pk),
            saga_type=self.saga.type,
            step=step.name,
            payload=self.saga.context.get("payload", {}),
            results={s.name: s.result for s in self.steps if s.status == StepStatus.SUCCEEDED},
            attempt=attempt,
            idempotency_key=key,
            correlation_id=self.saga.correlation_id,
        )

    def reload(self) -> None:
        """After a rollback the in-memory rows may be ahead of the database: read them again."""
        self.saga.refresh_from_db()
        self.steps = list(SagaStep.objects.filter(saga_id=self.saga.pk).order_by("index"))

    def lease_for(self, step: SagaStep):
        return timezone.now() + timedelta(seconds=self.step_def(step).timeout) + LEASE_MARGIN

    def running_status(self) -> dict[str, Any]:
        return {"status": SagaStatus.RUNNING} if self.saga.status == SagaStatus.PENDING else {}

    def finish(self, status: str, kind: str) -> None:
        changes = {"status": status, "finished_at": timezone.now(), "wake_at": None}
        self.transition(saga_changes=changes, events=[Event(kind)])

    # --- forward ---

    def run_local(self, step: SagaStep) -> None:
        """Action and checkpoint in one transaction (a savepoint inside a local run): exactly once."""
        spec = self.step_def(step)
        attempt = step.attempts + 1
        try:
            with transaction.atomic():
                with step_timeout(step.name, spec.timeout):
                    result = to_json(spec.action(self.context(step, attempt=attempt)))
                self.step_succeeded(step, result, attempts=attempt)
        except ConcurrentUpdate:
            raise
        except Exception as error:
            self.reload()
            self.step_failed(self.steps[step.index], error, attempts=attempt)

    def run_remote(self, step: SagaStep) -> None:
        """Claim with a lease, call outside any transaction, checkpoint under the fence."""
        spec = self.step_def(step)
        attempt = step.attempts + 1
        lease = self.lease_for(step)
        self.transition(
            saga_changes={**self.running_status(), "current_step": step.index, "wake_at": lease},
            step=step,
            step_changes={
                "status": StepStatus.RUNNING,
                "attempts": attempt,
                "started_at": step.started_at or timezone.now(),
                "lease_expires_at": lease,
                "next_attempt_at": None,
            },
            events=[Event("step_started", step.name, {"attempt": attempt})],
        )
        try:
            with step_timeout(step.name, spec.timeout):
                result = to_json(spec.action(self.context(step, attempt=attempt)))
        except Exception as error:
            self.step_failed(step, error, attempts=attempt)
            return
        if spec.kind == "async":
            self.transition(
                step=step,
                step_changes={"status": StepStatus.WAITING},
                events=[Event("step_waiting", step.name, {"command": result})],
            )
        else:
            self.step_succeeded(step, result, attempts=attempt)

    def step_succeeded(self, step: SagaStep, result: Any, *, attempts: int, events: list[Event] = ()) -> None:
        now = timezone.now()
        step_changes = {
            "status": StepStatus.SUCCEEDED,
            "attempts": attempts,
            "result": result,
            "started_at": step.started_at or now,
            "finished_at": now,
            "lease_expires_at": None,
            "next_attempt_at": None,
        }
        saga_changes = {**self.running_status(), "current_step": step.index}
        events = [*events, Event("step_succeeded", step.name, {"attempt": attempts})]
        if self.saga.status == SagaStatus.RUNNING and self.is_last_forward_step(step):
            # Fold the completion into this checkpoint: one commit instead of two.
            saga_changes.update(status=SagaStatus.COMPLETED, finished_at=now, wake_at=None)
            events.append(Event("saga_completed"))
        else:
            next_index = min(step.index + 1, len(self.steps) - 1)
            saga_changes["wake_at"] = self.lease_for(self.steps[next_index])
        self.transition(saga_changes=saga_changes, step=step, step_changes=step_changes, events=events)

    def is_last_forward_step(self, step: SagaStep) -> bool:
        done = (StepStatus.SUCCEEDED, StepStatus.SKIPPED)
        return all(s.status in done for s in self.steps if s.index != step.index)

    def step_failed(self, step: SagaStep, error: BaseException, *, attempts: int) -> None:
        spec = self.step_def(step)
        now = timezone.now()
        errors = error_fields(error)
        # A local step's failure rolled its effect back. A remote or async step's failure only says
        # nothing happened when the participant refused it (a non-retryable business error); a
        # timeout, a lost reply or a transient error may hide an effect, so it is compensated too.
        # Once unknown, it stays unknown: a later refusal does not undo an earlier lost reply.
        outcome_unknown = step.outcome_unknown or (spec.kind != "local" and is_retryable(spec.retry, error))
        base = {"attempts": attempts, "lease_expires_at": None, "outcome_unknown": outcome_unknown, **errors}
        detail = {"attempt": attempts, "error": errors["last_error"], "error_type": errors["last_error_type"]}
        if is_retryable(spec.retry, error) and attempts < spec.retry.max_attempts:
            retry_at = now + timedelta(seconds=spec.retry.delay(attempts))
            self.transition(
                saga_changes={
                    **self.running_status(),
                    "current_step": step.index,
                    "wake_at": retry_at,
                    "last_error": errors["last_error"],
                },
                step=step,
                step_changes={**base, "status": StepStatus.PENDING, "next_attempt_at": retry_at},
                events=[Event("step_retry_scheduled", step.name, {**detail, "retry_at": retry_at.isoformat()})],
            )
            return
        step_changes = {
            **base,
            "status": StepStatus.FAILED,
            "finished_at": now,
            "next_attempt_at": None,
        }
        failed = Event("step_failed", step.name, detail)
        if not pivot_passed(self.definition, self.steps):
            self.transition(
                saga_changes={
                    "status": SagaStatus.COMPENSATING,
                    "current_step": step.index,
                    "wake_at": now,
                    "last_error": errors["last_error"],
                },
                step=step,
                step_changes=step_changes,
                events=[failed, Event("compensation_started", step.name, {"reason": f"step {step.name} failed"})],
            )
            return
        reason = f"step {step.name} failed after {attempts} attempt(s) past the pivot: {errors['last_error']}"
        self.transition(
            saga_changes={
                "status": SagaStatus.STUCK,
                "current_step": step.index,
                "wake_at": None,
                "last_error": errors["last_error"],
                "attention_reason": reason,
            },
            step=step,
            step_changes=step_changes,
            events=[failed, Event("saga_stuck", step.name, {"reason": reason})],
        )

    def turn_back(self, reason: str) -> None:
        """Start compensating; a step that may have taken effect is compensated too."""
        step = unsettled_step(self.steps)
        self.transition(
            saga_changes={"status": SagaStatus.COMPENSATING, "wake_at": timezone.now(), "last_error": reason},
            step=step,
            step_changes={**ABANDON_STEP, "last_error": reason} if step else {},
            events=[Event("compensation_started", detail={"reason": reason})],
        )

    # --- compensation ---

    def compensate_step(self, step: SagaStep) -> None:
        spec = self.step_def(step)
        attempt = step.compensation_attempts + 1
        ctx = self.context(step, attempt=attempt, compensating=True)
        if spec.kind == "local":
            try:
                with transaction.atomic():
                    with step_timeout(step.name, spec.timeout):
                        spec.compensation(ctx)
                    self.compensation_succeeded(step, attempts=attempt)
            except ConcurrentUpdate:
                raise
            except Exception as error:
                self.reload()
                self.compensation_failed(self.steps[step.index], error, attempts=attempt)
            return
        lease = self.lease_for(step)
        self.transition(
            saga_changes={"current_step": step.index, "wake_at": lease},
            step=step,
            step_changes={
                "status": StepStatus.COMPENSATING,
                "compensation_attempts": attempt,
                "lease_expires_at": lease,
                "next_attempt_at": None,
            },
            events=[Event("compensation_step_started", step.name, {"attempt": attempt})],
        )
        try:
            with step_timeout(step.name, spec.timeout):
                spec.compensation(ctx)
        except Exception as error:
            self.compensation_failed(step, error, attempts=attempt)
            return
        self.compensation_succeeded(step, attempts=attempt)

    def compensation_succeeded(self, step: SagaStep, *, attempts: int) -> None:
        now = timezone.now()
        step_changes = {
            "status": StepStatus.COMPENSATED,
            "compensation_attempts": attempts,
            "lease_expires_at": None,
            "next_attempt_at": None,
            "finished_at": now,
        }
        events = [Event("step_compensated", step.name, {"attempt": attempts})]
        saga_changes = {"current_step": step.index, "wake_at": now + LEASE_MARGIN}
        others = [s for s in self.steps if s.index != step.index and needs_compensation(self.definition, s)]
        if not others:
            saga_changes.update(status=SagaStatus.COMPENSATED, finished_at=now, wake_at=None)
            events.append(Event("saga_compensated"))
        self.transition(saga_changes=saga_changes, step=step, step_changes=step_changes, events=events)

    def compensation_failed(self, step: SagaStep, error: BaseException, *, attempts: int) -> None:
        policy = self.step_def(step).compensation_retry
        now = timezone.now()
        errors = error_fields(error)
        base = {"compensation_attempts": attempts, "lease_expires_at": None, **errors}
        detail = {"attempt": attempts, "error": errors["last_error"], "error_type": errors["last_error_type"]}
        if is_retryable(policy, error) and attempts < policy.max_attempts:
            retry_at = now + timedelta(seconds=policy.delay(attempts))
            self.transition(
                saga_changes={"wake_at": retry_at, "last_error": errors["last_error"]},
                step=step,
                step_changes={**base, "status": StepStatus.COMPENSATING, "next_attempt_at": retry_at},
                events=[Event("compensation_retry_scheduled", step.name, {**detail, "retry_at": retry_at.isoformat()})],
            )
            return
        reason = f"compensation of step {step.name} failed after {attempts} attempt(s): {errors['last_error']}"
        self.transition(
            saga_changes={
                "status": SagaStatus.STUCK,
                "wake_at": None,
                "last_error": errors["last_error"],
                "attention_reason": reason,
            },
            step=step,
            step_changes={**base, "status": StepStatus.COMPENSATION_FAILED, "next_attempt_at": None},
            events=[
                Event("compensation_failed", step.name, detail),
                Event("saga_stuck", step.name, {"reason": reason}),
            ],
        )
