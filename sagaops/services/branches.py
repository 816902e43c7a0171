"""Carrying out Parallel groups: the executor forks branch tasks; each task runs one claimed
branch step (or its compensation) and writes its outcome under the step's own fence.

The executor claims branch attempts under the saga's version fence, like any step. A branch task
then writes its outcome with `branch_write`: conditional on the step row still holding the
attempt it was given (status and attempt number) and on the saga's status, and it bumps the
saga's version by an increment instead of comparing it. Two branches finishing at once both
write (they queue on the saga row only for their commit); an executor that read the saga before
either finds its version moved and leaves the saga to the advance each branch enqueues after
its commit: that advance is the join (see docs/BRANCHES.md).
"""

from __future__ import annotations

import copy
import logging
from functools import partial

from celery import current_app
from django.db import connection, transaction
from django.utils import timezone

from sagaops import rules
from sagaops.definitions import GroupSpec, SagaDefinition, get_definition
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.observability.context import saga_scope
from sagaops.rules import Change, Move, MoveKind, branches, failure_of
from sagaops.services.breaker import breaker_record
from sagaops.services.step_context import step_context, to_json
from sagaops.services.transitions import after_commit, event_row
from sagaops.states import SAGA_MOVES, SagaStatus, StepStatus, can_move, check_step_move
from sagaops.timeouts import step_timeout

log = logging.getLogger(__name__)

BRANCH_TASK = "sagaops.tasks.run_branch"
S, T = SagaStatus, StepStatus
# The saga statuses a branch outcome may be written in: a forward outcome still counts after the
# saga turned back (it decides whether there is something to undo); a compensation's outcome
# counts after a sibling's compensation made the saga stuck.
FORWARD_STATUSES = (S.RUNNING, S.COMPENSATING)
COMPENSATION_STATUSES = (S.COMPENSATING, S.STUCK)


class BranchFenceLost(Exception):
    """The step no longer holds the attempt this task was given: a newer one, or the saga moved."""


# --- in the executor ---


def branches_perform(executor, move: Move) -> bool:
    """Carry out a branch move for the executor; False when its run should stop."""
    now = timezone.now()
    if move.kind == MoveKind.EXPIRE_BRANCH:
        step = executor.steps[move.index]
        executor.write(branches.on_branch_lease_expired(executor.definition, step, now=now))
        return True
    if move.kind == MoveKind.GROUP_STUCK:
        executor.write(branches.on_group_stuck(executor.definition, executor.steps, move.reason))
        return False
    compensating = move.kind == MoveKind.FORK_COMPENSATION
    with transaction.atomic():  # every claim of the fork commits together, then the tasks go
        for index in move.indexes:
            step = executor.steps[index]
            if compensating:
                executor.write(rules.on_compensation_claimed(executor.definition, step, now=now))
                attempt = step.compensation_attempts
            else:
                executor.write(rules.on_step_claimed(executor.saga, executor.definition, step, now=now))
                attempt = step.attempts
            transaction.on_commit(partial(_send, executor.saga.pk, index, attempt, compensating))
    return True


def _send(saga_id, index: int, attempt: int, compensating: bool) -> None:
    """A lost send leaves the claim to run out its lease: the step is then retried."""
    try:
        current_app.send_task(BRANCH_TASK, args=(str(saga_id), index, attempt, compensating))
    except Exception:  # kombu raises its own connection errors
        log.warning("could not send branch %s of saga %s; its lease runs out and it is retried", index, saga_id)


# --- in the branch task ---


def branch_run(*, saga_id, index: int, attempt: int, compensating: bool) -> None:
    """Run one claimed branch step's action (or compensation) and write its outcome."""
    saga = Saga.objects.filter(pk=saga_id).first()
    if saga is None:
        return
    steps = list(SagaStep.objects.filter(saga_id=saga_id).order_by("index"))
    step = steps[index]
    expected = T.COMPENSATING if compensating else T.RUNNING
    held = step.compensation_attempts if compensating else step.attempts
    if step.status != expected or held != attempt:
        return  # a duplicate delivery, or an attempt the engine has since given up on
    definition = get_definition(saga.type, saga.definition_version)
    with saga_scope(saga):
        try:
            if compensating:
                _compensate(saga, steps, definition, step, attempt)
            else:
                _forward(saga, steps, definition, step, attempt)
        except BranchFenceLost:
            log.info("branch %s of saga %s was taken over; its outcome is not written", step.name, saga_id)


def _forward(saga: Saga, steps: list[SagaStep], definition: SagaDefinition, step: SagaStep, attempt: int) -> None:
    spec = definition.steps[step.index]
    ctx = step_context(saga, steps, step, attempt=attempt, compensating=False)
    try:
        if spec.kind == "local":
            with transaction.atomic():  # a local branch's effect and its checkpoint commit together
                with step_timeout(step.name, spec.timeout):
                    result = to_json(spec.action(ctx))
                change = branches.on_branch_succeeded(step, result=result, attempts=attempt, now=timezone.now())
                _write(saga, step, attempt, False, change)
            return
        with step_timeout(step.name, spec.timeout):  # a remote call holds no transaction open
            result = to_json(spec.action(ctx))
    except BranchFenceLost:
        raise
    except Exception as error:
        failure = failure_of(error, spec.retry)
        if failure.retryable and not failure.worker_lost:
            breaker_record(definition, spec, failed=True)
        change = branches.on_branch_failed(definition, step, failure, attempts=attempt, now=timezone.now())
        _write(saga, step, attempt, False, change)
        return
    breaker_record(definition, spec, failed=False)
    if spec.kind == "async":
        change = branches.on_branch_waiting(step, result)
    else:
        change = branches.on_branch_succeeded(step, result=result, attempts=attempt, now=timezone.now())
    _write(saga, step, attempt, False, change)


def _compensate(saga: Saga, steps: list[SagaStep], definition: SagaDefinition, step: SagaStep, attempt: int) -> None:
    spec = definition.steps[step.index]
    ctx = step_context(saga, steps, step, attempt=attempt, compensating=True)
    try:
        if spec.kind == "local":
            with transaction.atomic():  # a local undo and its checkpoint commit together
                with step_timeout(step.name, spec.timeout):
                    spec.compensation(ctx)
                _write(saga, step, attempt, True, _compensated(step, attempt))
            return
        with step_timeout(step.name, spec.timeout):
            spec.compensation(ctx)
    except BranchFenceLost:
        raise
    except Exception as error:
        failure = failure_of(error, spec.compensation_retry)
        change = rules.on_compensation_failed(definition, step, failure, attempts=attempt, now=timezone.now())
        _write(saga, step, attempt, True, change)
        return
    _write(saga, step, attempt, True, _compensated(step, attempt))


def _compensated(step: SagaStep, attempt: int) -> Change:
    return branches.on_branch_compensated(step, attempts=attempt, now=timezone.now())


def _write(saga: Saga, step: SagaStep, attempt: int, compensating: bool, change: Change) -> None:
    statuses = COMPENSATION_STATUSES if compensating else FORWARD_STATUSES
    expected = T.COMPENSATING if compensating else T.RUNNING
    branch_write(saga, step, change, statuses=statuses, expected=expected, attempt=attempt, compensating=compensating)


def branch_write(
    saga: Saga,
    step: SagaStep,
    change: Change,
    *,
    statuses: tuple[str, ...],
    expected: str,
    attempt: int,
    compensating: bool,
) -> None:
    """Write a branch outcome under the step's fence; raises BranchFenceLost when it no longer holds.

    The saga row is locked first (by its UPDATE), as every transition does, so two writers never
    deadlock; its version is incremented, not compared: branch outcomes commute. Under that lock
    the siblings' rows are read as the other writers committed them, so exactly the last branch
    attempt in flight sends the join (`rules.branches.branch_wake`)."""
    if "status" in change.step:
        check_step_move(expected, change.step["status"])
    target = change.saga.get("status")
    if target is not None:
        statuses = tuple(s for s in statuses if s == target or can_move(SAGA_MOVES, s, target))
    now = timezone.now()
    values = {"updated_at": now, **{k: v for k, v in change.saga.items() if k != "wake_at"}}
    with transaction.atomic():
        row = _bump_saga(saga.pk, values, statuses)
        if row is None:
            raise BranchFenceLost(step.name)
        version, status, wake_at = row
        attempts = "compensation_attempts" if compensating else "attempts"
        fenced = SagaStep.objects.filter(pk=step.pk, status=expected, **{attempts: attempt})
        if fenced.update(**change.step) != 1:
            raise BranchFenceLost(step.name)
        group = get_definition(saga.type, saga.definition_version).group_of(step.index)
        join, wake = branches.branch_wake(
            change,
            siblings_in_flight=_siblings_in_flight(saga, group, step, compensating),
            branch_goes_on=branches.branch_goes_on(group, step.index, compensating=compensating),
        )
        if wake is not None and (wake_at is None or wake < wake_at):
            Saga.objects.filter(pk=saga.pk).update(wake_at=wake)  # only ever pulled in
            wake_at = wake
        SagaEvent.objects.bulk_create([event_row(saga, e, version) for e in change.events])
        for event in change.events:
            event.version = version
        for name, value in {**values, "version": version, "status": status, "wake_at": wake_at}.items():
            setattr(saga, name, value)
        transaction.on_commit(partial(after_commit, copy.copy(saga), change.events, join))


def _siblings_in_flight(saga: Saga, group: GroupSpec, step: SagaStep, compensating: bool) -> bool:
    return (
        SagaStep.objects.filter(saga_id=saga.pk, index__in=list(group.indexes))
        .exclude(pk=step.pk)
        .filter(status__in=branches.in_flight_statuses(compensating), lease_expires_at__isnull=False)
        .exists()
    )


def _bump_saga(saga_id, values: dict, statuses: tuple[str, ...]) -> tuple[int, str, object] | None:
    """UPDATE the saga (version + 1 and `values`) if its status is one of `statuses`."""
    fields = [Saga._meta.get_field(name) for name in values]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    table = connection.ops.quote_name(Saga._meta.db_table)
    sql = (
        f"UPDATE {table} SET version = version + 1, {assignments} "
        "WHERE id = %s AND status = ANY(%s) RETURNING version, status, wake_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, saga_id, list(statuses)])
        return cursor.fetchone()


# --- the operator's retry of one branch ---


def branch_retry_change(saga: Saga, definition: SagaDefinition | None, steps: list[SagaStep], step_name: str):
    """The rule's answer for retrying branch `step_name`: a Change, or a Refusal."""
    step = next((s for s in steps if s.name == step_name), None)
    if step is None:
        return rules.Refusal(f"saga {saga.pk} has no step {step_name!r}", field="step")
    refusal = branches.can_retry_branch(saga, definition, step)
    return refusal or branches.retry_branch_change(saga, step, now=timezone.now())
