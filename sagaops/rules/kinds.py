"""Named kinds: what the engine can do next, what it writes on a timeline, why a saga needs a human."""

from enum import StrEnum


class MoveKind(StrEnum):
    RUN = "run"  # execute step `index`'s action now
    COMPENSATE = "compensate"  # execute step `index`'s compensation now
    EXPIRE = "expire"  # step `index`'s attempt is over without an answer (lease ran out, worker died)
    EXPIRE_COMPENSATION = "expire_comp"  # the same for its compensation
    WAIT = "wait"  # nothing to do before `until`
    HOLD = "hold"  # step `index` may not start: hold `hold_id` keeps it (no attempt, no retry burned)
    RELEASE = "release"  # step `index` is held by a hold no longer in force: let it go
    COMPLETE = "complete"  # every forward step is done
    COMPENSATED = "compensated"  # every step that took effect is undone
    START_COMPENSATION = "start_compensation"  # the saga must turn back (`reason` says why)
    IDLE = "idle"  # nothing the engine can do: finished, stuck, or it needs an operator
    # Parallel groups (sagaops.rules.branches): each branch step runs in a task of its own.
    FORK = "fork"  # claim the branch steps `indexes` and start one task for each
    FORK_COMPENSATION = "fork_compensation"  # the same for their compensations
    EXPIRE_BRANCH = "expire_branch"  # branch step `index`'s attempt is over without an answer
    GROUP_STUCK = "group_stuck"  # a branch failed past the pivot: the saga needs an operator


BRANCH_MOVES = frozenset({MoveKind.FORK, MoveKind.FORK_COMPENSATION, MoveKind.EXPIRE_BRANCH, MoveKind.GROUP_STUCK})


class EventKind(StrEnum):
    SAGA_STARTED = "saga_started"
    SAGA_COMPLETED = "saga_completed"
    SAGA_COMPENSATED = "saga_compensated"
    SAGA_STUCK = "saga_stuck"
    STEP_STARTED = "step_started"
    STEP_WAITING = "step_waiting"
    STEP_SUCCEEDED = "step_succeeded"
    STEP_RETRY_SCHEDULED = "step_retry_scheduled"
    STEP_FAILED = "step_failed"
    STEP_HELD = "step_held"
    STEP_RELEASED = "step_released"
    CALLBACK_RECEIVED = "callback_received"
    COMPENSATION_STARTED = "compensation_started"
    COMPENSATION_STEP_STARTED = "compensation_step_started"
    COMPENSATION_RETRY_SCHEDULED = "compensation_retry_scheduled"
    COMPENSATION_FAILED = "compensation_failed"
    STEP_COMPENSATED = "step_compensated"
    OPERATOR_RETRY = "operator_retry"
    OPERATOR_COMPENSATE = "operator_compensate"
    OPERATOR_RETRY_COMPENSATION = "operator_retry_compensation"
    OPERATOR_SKIP_STEP = "operator_skip_step"
    OPERATOR_COMPENSATION_DONE = "operator_compensation_done"
    OPERATOR_RESOLVE = "operator_resolve"
    OPERATOR_COMPLETE_STEP = "operator_complete_step"
    OPERATOR_EDIT_RESULT = "operator_edit_result"
    OPERATOR_RETRY_BRANCH = "operator_retry_branch"
    CHILD_RECALLED = "child_recalled"  # a completed child saga compensated for its parent
    # choreographed sagas: what the tracker records of the services' events
    EVENT_RECEIVED = "event_received"
    RESUMED = "resumed"
    FAILURE_REPORTED = "failure_reported"
    RETRY_REQUESTED = "retry_requested"
    COMPENSATION_REQUESTED = "compensation_requested"
    COMPENSATION_ATTEMPT_FAILED = "compensation_attempt_failed"
    COMMAND_DONE = "command_done"
    SUPERVISOR_STUCK = "supervisor_stuck"


class AttentionCode(StrEnum):
    """Why a saga is stuck, for machines (the attention reason says it for people)."""

    RETRIES_EXHAUSTED = "retries_exhausted"  # a step past the pivot ran out of retries
    COMPENSATION_FAILED = "compensation_failed"  # a compensation ran out of retries
    WORKER_LOST = "worker_lost"  # a step (or compensation) killed its worker every time
    OVERDUE = "overdue"  # a choreographed saga's next event did not come
    SUPERVISOR = "supervisor"  # the supervisor gave up on a failure report
    BRANCH_FAILED = "branch_failed"  # a branch of a Parallel group failed past the pivot


# The actor of a timeline event (SagaEvent.Actor holds the same values for the database).
SYSTEM, SERVICE, OPERATOR = "system", "service", "operator"
