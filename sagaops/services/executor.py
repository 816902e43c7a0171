"""Advancing a saga: load it, lock it, ask the rules, run the action, ask the rules, write.

Every decision is in `sagaops.rules`; this module only carries the moves out. One
`saga_advance` runs consecutive ready steps in one go, with a checkpoint after each; it returns
to the broker only to wait (a retry delay, an async callback, a lease).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import redis
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from sagaops import mirror, rules
from sagaops.conf import conf
from sagaops.definitions import SagaDefinition, Step, StepContext, get_definition
from sagaops.exceptions import ConcurrentUpdate, UnknownSagaType
from sagaops.models import Saga, SagaStep
from sagaops.observability.context import saga_scope, step_scope
from sagaops.rules import Change, Move, MoveKind, failure_of
from sagaops.rules.kinds import BRANCH_MOVES
from sagaops.services.branches import branches_perform
from sagaops.services.breaker import breaker_record
from sagaops.services.holds import holds_in_force
from sagaops.services.saga_load import saga_with_steps
from sagaops.services.savepoints import kept_savepoint
from sagaops.services.step_context import step_context, to_json
from sagaops.services.transitions import LocalRun, apply_change, set_wake
from sagaops.states import ACTIVE_SAGA_STATUSES, SagaStatus
from sagaops.timeouts import step_timeout

log = logging.getLogger(__name__)

MAX_MOVES_PER_RUN = 200
LOCK_BUSY_RETRY = timedelta(seconds=1)
UNKNOWN_TYPE_RETRY = timedelta(seconds=30)
# A run of local steps commits once; it stays open at most this long, so progress shows up.
LOCAL_RUN_SECONDS = 0.5


def saga_advance(*, saga_id) -> None:
    # Read before the lock: a run that finishes in between only makes this version stale, and
    # the fence turns the first write away.
    saga, steps, any_hold = saga_with_steps(saga_id)
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
            # The load said whether any hold is in force: without one, no query for them.
            holds = holds_in_force(definition) if any_hold else []
            Executor(saga, steps, definition, exclusive=bool(token), holds=holds).run()
    finally:
        if token:
            _unlock(saga, token)


def _lock(saga: Saga) -> str | bool | None:
    """The Redis lock is only a fast path in front of the fence: without Redis, go on unlocked."""
    try:
        token = mirror.lock_acquire(saga.pk, conf.SAGAOPS_LOCK_TTL)
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


def release_connection() -> None:
    """Before a remote call: with Django's psycopg connection pool (a threads-pool worker,
    `SAGAOPS_DB_POOL` in this project's settings), hand the database connection back while the
    call waits, so that a few connections serve hundreds of calls."""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()


class Executor:
    """exclusive: this executor holds the saga's lock, so a local attempt it finds claimed was
    left by an executor that died (the rules then count it as a lost attempt at once)."""

    def __init__(
        self,
        saga: Saga,
        steps: list[SagaStep],
        definition: SagaDefinition,
        *,
        exclusive: bool = False,
        holds: list | tuple = (),
    ):
        self.saga = saga
        self.steps = steps
        self.definition = definition
        self.exclusive = exclusive
        self.holds = holds  # the holds in force, read once per advance
        self.running_index = 0  # the local step a run is executing
        self.step_error: BaseException | None = None  # what interrupted it, if anything
        self.local_run: LocalRun | None = None  # the run of local steps in progress, if any

    # --- the loop ---

    def run(self) -> None:
        for _ in range(MAX_MOVES_PER_RUN):
            move = self.next_move()
            try:
                with step_scope(self.saga, self.steps, move):  # log lines carry the step and attempt
                    if not self.perform(move):
                        return
            except ConcurrentUpdate:
                log.info(
                    "saga %s moved under us (version %s); leaving it to its new owner", self.saga.pk, self.saga.version
                )
                return
        set_wake(self.saga, timezone.now())  # an unusually long run: continue in a new task

    def next_move(self) -> Move:
        return rules.next_move(
            status=self.saga.status,
            definition=self.definition,
            steps=self.steps,
            deadline=self.saga.deadline,
            now=timezone.now(),
            exclusive=self.exclusive,
            holds=self.holds,
        )

    def perform(self, move: Move) -> bool:
        """Carry out one move; False when this run should stop."""
        now = timezone.now()
        step = self.steps[move.index] if move.index is not None else None
        if move.kind == MoveKind.WAIT:
            set_wake(self.saga, move.until)
            return False
        if move.kind == MoveKind.IDLE:
            return False
        if move.kind in BRANCH_MOVES:
            return branches_perform(self, move)  # Parallel groups: sagaops.services.branches
        if move.kind == MoveKind.COMPLETE:
            self.write(rules.on_finished(SagaStatus.COMPLETED, now=now))
            return False
        if move.kind == MoveKind.COMPENSATED:
            self.write(rules.on_finished(SagaStatus.COMPENSATED, now=now))
            return False
        if move.kind == MoveKind.HOLD:
            hold = next(h for h in self.holds if h.id == move.hold_id)
            self.write(rules.on_step_held(self.saga, step, hold, now=now))
            return False  # the change armed its timer: it looks again later, or its release wakes it
        if move.kind == MoveKind.RELEASE:
            self.write(rules.on_step_released(self.saga, step, now=now, hold_id=None))
        elif move.kind == MoveKind.START_COMPENSATION:
            self.write(rules.on_turn_back(self.steps, move.reason, now=now))
        elif move.kind == MoveKind.RUN:
            self.run_step(step, alone=move.alone)
        elif move.kind == MoveKind.EXPIRE:
            self.write(rules.on_lease_expired(self.saga, self.definition, self.steps, step, now=now))
        elif move.kind == MoveKind.COMPENSATE:
            self.compensate(step)
        elif move.kind == MoveKind.EXPIRE_COMPENSATION:
            self.write(rules.on_compensation_lease_expired(self.definition, step, now=now))
        return True

    def write(self, change: Change, *, wait_for_flush: bool = True) -> None:
        """The fenced write of one change; inside a local run, the run writes the saga row once."""
        apply_change(self.saga, self.steps, change, run=self.local_run, wait_for_flush=wait_for_flush)

    # --- helpers ---

    def step_def(self, step: SagaStep) -> Step:
        return self.definition.steps[step.index]

    def context(self, step: SagaStep, *, attempt: int, compensating: bool = False) -> StepContext:
        return step_context(self.saga, self.steps, step, attempt=attempt, compensating=compensating)

    def reload(self, *, expected_version: int) -> None:
        """After a rollback the in-memory rows may be ahead of the database: read them again. If
        the saga moved meanwhile (another executor, an operator), the failure is not ours to write."""
        if self.local_run is not None:
            self.local_run.flush(self.saga)  # what the run's earlier steps changed, before reading back
        self.saga.refresh_from_db()
        self.steps = list(SagaStep.objects.filter(saga_id=self.saga.pk).order_by("index"))
        if self.saga.version != expected_version:
            raise ConcurrentUpdate("the saga moved while the step ran", self.saga.status)

    def failed(self, step: SagaStep, error: BaseException, *, attempts: int) -> Change:
        failure = failure_of(error, self.step_def(step).retry)
        if failure.retryable and not failure.worker_lost:
            breaker_record(self.definition, self.step_def(step), failed=True)
        return rules.on_step_failed(
            self.saga, self.definition, self.steps, step, failure, attempts=attempts, now=timezone.now()
        )

    # --- forward ---

    def run_step(self, step: SagaStep, *, alone: bool = False) -> None:
        """Claim the attempt in its own commit (counted even if the worker dies), then run it.

        A local attempt's claim commits without waiting for its WAL flush: it is committed, and
        visible, at once, so a worker that dies in the attempt leaves it counted. Only a crash of
        PostgreSQL itself within a moment could lose it, and then it loses the local run after it
        as well: the run commits later, and its flush writes the claim's WAL before its own. A
        remote attempt's call has effects elsewhere: its claim waits for the disk.
        """
        local = self.step_def(step).kind == "local"
        self.write(
            rules.on_step_claimed(self.saga, self.definition, step, now=timezone.now()), wait_for_flush=not local
        )
        if local:
            self.run_local_run(step, alone=alone)
        else:
            self.run_remote(step)

    def run_remote(self, step: SagaStep) -> None:
        """The call runs outside any transaction; its outcome is checkpointed under the fence."""
        spec = self.step_def(step)
        attempt = step.attempts
        release_connection()
        try:
            with step_timeout(step.name, spec.timeout):
                result = to_json(spec.action(self.context(step, attempt=attempt)))
        except Exception as error:
            self.write(self.failed(step, error, attempts=attempt))
            return
        breaker_record(self.definition, spec, failed=False)
        if spec.kind == "async":
            self.write(rules.on_step_waiting(step, result))
        else:
            self.write(
                rules.on_step_succeeded(
                    self.saga, self.definition, self.steps, step, result=result, attempts=attempt, now=timezone.now()
                )
            )

    def run_local_run(self, claimed: SagaStep, *, alone: bool) -> None:
        """Run the claimed local step and the ready local steps after it in one transaction.

        Their effects live in this database, so one commit for the run keeps each exactly once (a
        crash rolls the whole run back and it is redone) and costs one fsync instead of one per step.
        """
        version = self.saga.version
        self.step_error = None
        try:
            with transaction.atomic():
                self.local_run = LocalRun(version=version)
                try:
                    self.run_locals(claimed, alone=alone)
                    self.local_run.flush(self.saga)
                    self.local_run.publish_on_commit(self.saga)
                finally:
                    self.local_run = None
        except ConcurrentUpdate:
            raise
        except (DatabaseError, TransactionManagementError) as error:
            # The run's transaction itself broke (a step interrupted inside a query, say) and was
            # rolled back whole: record the failure of the step that broke it, with its real cause.
            self.reload(expected_version=version)
            culprit = self.steps[self.running_index]
            attempts = culprit.attempts
            if culprit.index != claimed.index:
                self.write(rules.on_claim_released(self.steps[claimed.index]))
                attempts += 1
            self.write(self.failed(culprit, self.step_error or error, attempts=attempts))

    def run_locals(self, claimed: SagaStep, *, alone: bool) -> None:
        opened = time.monotonic()
        self.run_local(claimed, attempt=claimed.attempts)
        move = self.next_move()
        while not alone and self.is_local_run(move) and time.monotonic() - opened < LOCAL_RUN_SECONDS:
            step = self.steps[move.index]
            with step_scope(self.saga, self.steps, move):
                self.run_local(step, attempt=step.attempts + 1)
            move = self.next_move()

    def is_local_run(self, move: Move) -> bool:
        return move.kind == MoveKind.RUN and self.step_def(self.steps[move.index]).kind == "local"

    def run_local(self, step: SagaStep, *, attempt: int) -> None:
        """Action and checkpoint in one savepoint: both happen, or neither."""
        self.running_index = step.index
        spec = self.step_def(step)
        version = self.saga.version
        try:
            with kept_savepoint():
                with step_timeout(step.name, spec.timeout):
                    result = to_json(spec.action(self.context(step, attempt=attempt)))
                self.write(
                    rules.on_step_succeeded(
                        self.saga,
                        self.definition,
                        self.steps,
                        step,
                        result=result,
                        attempts=attempt,
                        now=timezone.now(),
                    )
                )
        except ConcurrentUpdate:
            raise
        except Exception as error:
            self.step_error = error
            self.reload(expected_version=version)
            self.write(self.failed(self.steps[step.index], error, attempts=attempt))
            self.step_error = None

    # --- compensation ---

    def compensate(self, step: SagaStep) -> None:
        """Claim the compensation attempt in its own commit, then run it."""
        spec = self.step_def(step)
        self.write(rules.on_compensation_claimed(self.definition, step, now=timezone.now()))
        attempt = step.compensation_attempts
        ctx = self.context(step, attempt=attempt, compensating=True)
        version = self.saga.version
        try:
            if spec.kind == "local":
                with transaction.atomic():  # the undo and its checkpoint commit together
                    with step_timeout(step.name, spec.timeout):
                        spec.compensation(ctx)
                    self.compensated(step, attempt)
                return
            with step_timeout(step.name, spec.timeout):
                spec.compensation(ctx)
        except ConcurrentUpdate:
            raise
        except Exception as error:
            if spec.kind == "local":
                self.reload(expected_version=version)
                step = self.steps[step.index]
            failure = failure_of(error, spec.compensation_retry)
            self.write(
                rules.on_compensation_failed(self.definition, step, failure, attempts=attempt, now=timezone.now())
            )
            return
        self.compensated(step, attempt)

    def compensated(self, step: SagaStep, attempt: int) -> None:
        self.write(
            rules.on_compensation_succeeded(self.definition, self.steps, step, attempts=attempt, now=timezone.now())
        )
