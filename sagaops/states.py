"""The saga and step state machines: one pure table each, one function that checks a move.

Every status write in the engine goes through `check_saga_move` / `check_step_move`.
"""

from django.db import models

from sagaops.exceptions import InvalidTransition


class SagaStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    COMPENSATED = "compensated"
    STUCK = "stuck"
    RESOLVED = "resolved"


class StepStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    # A hold (an outage, a tripped circuit breaker) keeps the step from starting: no attempt runs.
    HELD = "held"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"
    SKIPPED = "skipped"


S, T = SagaStatus, StepStatus

SAGA_MOVES: dict[str, frozenset[str]] = {
    # -> resolved from every unfinished status: an operator can always close a saga by hand.
    S.PENDING: frozenset({S.RUNNING, S.COMPENSATING, S.RESOLVED}),
    S.RUNNING: frozenset({S.RUNNING, S.COMPLETED, S.COMPENSATING, S.STUCK, S.RESOLVED}),
    S.COMPENSATING: frozenset({S.COMPENSATING, S.COMPENSATED, S.STUCK, S.RESOLVED}),
    S.STUCK: frozenset({S.RUNNING, S.COMPENSATING, S.RESOLVED}),
    # completed -> compensating: only a child saga, recalled by its compensating parent.
    S.COMPLETED: frozenset({S.COMPENSATING}),
    S.COMPENSATED: frozenset(),
    S.RESOLVED: frozenset(),
}

STEP_MOVES: dict[str, frozenset[str]] = {
    # local steps go straight to succeeded; a retry puts the step back to pending with a timer;
    # a step whose effect precedes it (always_compensate) is compensated without having run.
    T.PENDING: frozenset(
        {
            T.PENDING,
            T.HELD,
            T.RUNNING,
            T.SUCCEEDED,
            T.FAILED,
            T.SKIPPED,
            T.COMPENSATING,
            T.COMPENSATED,
            T.COMPENSATION_FAILED,
        }
    ),
    # held -> pending: released; held -> held: another hold takes it over; held -> succeeded: an
    # operator completed it by hand; held -> failed: the saga turned back (an operator's decision).
    T.HELD: frozenset({T.HELD, T.PENDING, T.SUCCEEDED, T.FAILED, T.COMPENSATING, T.COMPENSATED, T.COMPENSATION_FAILED}),
    # running -> running: a local step claimed by an executor that died is claimed again
    T.RUNNING: frozenset({T.RUNNING, T.PENDING, T.SUCCEEDED, T.FAILED, T.WAITING}),
    T.WAITING: frozenset({T.PENDING, T.SUCCEEDED, T.FAILED}),
    T.SUCCEEDED: frozenset({T.COMPENSATING, T.COMPENSATED, T.COMPENSATION_FAILED}),
    # a failed step is retried forward or skipped by an operator, or compensated if it timed out
    # ... or completed by hand with the result the operator recorded
    T.FAILED: frozenset({T.PENDING, T.SUCCEEDED, T.SKIPPED, T.COMPENSATING, T.COMPENSATED, T.COMPENSATION_FAILED}),
    # compensating -> compensating: a compensation retry is scheduled or claimed again
    T.COMPENSATING: frozenset({T.COMPENSATING, T.COMPENSATED, T.COMPENSATION_FAILED}),
    T.COMPENSATION_FAILED: frozenset({T.COMPENSATING, T.COMPENSATED}),
    T.COMPENSATED: frozenset(),
    T.SKIPPED: frozenset(),
}

ACTIVE_SAGA_STATUSES = (S.PENDING, S.RUNNING, S.COMPENSATING)
IN_FLIGHT_STEP_STATUSES = (T.RUNNING, T.WAITING)
COMPENSATION_STEP_STATUSES = (T.COMPENSATING, T.COMPENSATED, T.COMPENSATION_FAILED)
FINISHED_SAGA_STATUSES = (S.COMPLETED, S.COMPENSATED, S.RESOLVED)


def can_move(table: dict[str, frozenset[str]], current: str, target: str) -> bool:
    return target in table.get(current, frozenset())


def check_saga_move(current: str, target: str) -> None:
    if not can_move(SAGA_MOVES, current, target):
        raise InvalidTransition("saga", current, target)


def check_step_move(current: str, target: str) -> None:
    if not can_move(STEP_MOVES, current, target):
        raise InvalidTransition("step", current, target)
