"""One test per rule of the saga state table, and the step table's key rules."""

import pytest

from sagaops.exceptions import InvalidTransition
from sagaops.states import SAGA_MOVES, STEP_MOVES, SagaStatus, StepStatus, check_saga_move, check_step_move

S, T = SagaStatus, StepStatus

ALLOWED_SAGA_MOVES = [
    (S.PENDING, S.RUNNING),
    (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.COMPENSATING),
    (S.COMPENSATING, S.COMPENSATED),
    (S.RUNNING, S.STUCK),  # forward recovery exhausted after the pivot
    (S.COMPENSATING, S.STUCK),  # a compensation exhausted its retries
    (S.STUCK, S.RUNNING),  # operator: retry forward
    (S.RUNNING, S.RUNNING),  # operator: retry forward of a running saga
    (S.STUCK, S.COMPENSATING),  # operator: force compensation
    (S.PENDING, S.COMPENSATING),  # operator: force compensation before it started
    (S.STUCK, S.RESOLVED),  # operator: resolved by hand
    (S.PENDING, S.RESOLVED),  # operator: resolved by hand, once no attempt is in flight
    (S.RUNNING, S.RESOLVED),
    (S.COMPENSATING, S.RESOLVED),
    (S.COMPLETED, S.COMPENSATING),  # a completed child saga, recalled by its compensating parent
]


@pytest.mark.parametrize(("current", "target"), ALLOWED_SAGA_MOVES)
def test_allowed_saga_move(current, target):
    check_saga_move(current, target)


def test_saga_table_allows_nothing_else():
    allowed = {(c, t) for c, t in ALLOWED_SAGA_MOVES} | {(S.COMPENSATING, S.COMPENSATING)}
    table = {(c, t) for c, targets in SAGA_MOVES.items() for t in targets}
    assert table == allowed


# A completed saga moves only to compensating, when it is a child recalled by its compensating parent.
@pytest.mark.parametrize(
    ("final", "target"),
    [(f, t) for f in (S.COMPLETED, S.COMPENSATED, S.RESOLVED) for t in S if (f, t) != (S.COMPLETED, S.COMPENSATING)],
)
def test_finished_saga_never_moves(final, target):
    with pytest.raises(InvalidTransition, match=f"saga cannot move from {final} to {target}"):
        check_saga_move(final, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.PENDING, S.COMPLETED), (S.RUNNING, S.COMPENSATED), (S.COMPENSATING, S.RUNNING), (S.STUCK, S.COMPLETED)],
)
def test_forbidden_saga_moves(current, target):
    with pytest.raises(InvalidTransition):
        check_saga_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (T.PENDING, T.RUNNING),
        (T.PENDING, T.SUCCEEDED),  # a local step commits with its checkpoint
        (T.RUNNING, T.WAITING),
        (T.WAITING, T.SUCCEEDED),
        (T.RUNNING, T.PENDING),  # retry scheduled
        (T.SUCCEEDED, T.COMPENSATING),
        (T.COMPENSATING, T.COMPENSATED),
        (T.COMPENSATING, T.COMPENSATION_FAILED),
        (T.COMPENSATION_FAILED, T.COMPENSATING),  # operator: retry compensation
        (T.FAILED, T.SKIPPED),  # operator: skip a step
        (T.FAILED, T.COMPENSATED),  # a timed-out step is compensated too
    ],
)
def test_allowed_step_move(current, target):
    check_step_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [(T.COMPENSATED, T.PENDING), (T.SKIPPED, T.RUNNING), (T.SUCCEEDED, T.RUNNING), (T.WAITING, T.COMPENSATED)],
)
def test_forbidden_step_moves(current, target):
    with pytest.raises(InvalidTransition):
        check_step_move(current, target)


def test_every_status_has_a_row():
    assert set(SAGA_MOVES) == set(S)
    assert set(STEP_MOVES) == set(T)
