"""Every decision the engine makes, as pure functions of a saga's state.

The executor, the callbacks, the operators' services and the console's buttons ask these
functions; each answers with one `Change` (saga fields, one step's fields, timeline events) that
`sagaops.services.transitions.transition` writes under the version fence, or a `Refusal`.

- moves:        what a saga needs next (`next_move`), and the predicates it is built from
- forward:      claiming, finishing, failing a step; turning back; finishing the saga
- compensation: claiming, finishing, failing a compensation
- callbacks:    an async step's service reporting success or failure
- repairs:      the operators' actions: `can_*` guards and their changes
- data_repairs: repairs with data: complete a step by hand, edit a result, plan a compensation
- bulk:         pausing, resuming, cancelling a bulk action, and its pace
- holds:        which hold keeps a step from starting, holding and releasing, the circuit breaker
- branches:     Parallel groups: forking, the join, concurrent compensation, retrying one branch
- children:     child sagas: recalling a completed child for its compensating parent
- kinds:        the named kinds of moves, events and attention codes
"""

from sagaops.rules.branches import can_retry_branch, retry_branch_change
from sagaops.rules.bulk import batch_size, can_cancel, can_pause, can_resume, next_tick_due, rate_refusal
from sagaops.rules.callbacks import DUPLICATE, on_callback_complete, on_callback_fail
from sagaops.rules.change import IDLE, Change, Event, Move, Refusal
from sagaops.rules.compensation import (
    on_compensation_claimed,
    on_compensation_failed,
    on_compensation_lease_expired,
    on_compensation_succeeded,
)
from sagaops.rules.data_repairs import (
    can_complete_by_hand,
    can_edit_result,
    compensation_plan,
    complete_by_hand_change,
    edit_result_change,
    result_diff,
)
from sagaops.rules.failures import Failure, failure_of
from sagaops.rules.forward import (
    LEASE_MARGIN,
    abandoned,
    on_claim_released,
    on_finished,
    on_lease_expired,
    on_step_claimed,
    on_step_failed,
    on_step_succeeded,
    on_step_waiting,
    on_turn_back,
)
from sagaops.rules.holds import (
    HOLD_RECHECK,
    breaker_reason,
    breaker_trips,
    can_cancel_release,
    can_pause_release,
    can_release,
    can_release_step,
    holding,
    on_step_held,
    on_step_released,
    release_batch,
    target_refusal,
)
from sagaops.rules.kinds import AttentionCode, EventKind, MoveKind
from sagaops.rules.moves import (
    STALL_GRACE,
    attempt_in_flight,
    is_stalled,
    needs_compensation,
    next_move,
    pivot_passed,
    results_for,
    unsettled_step,
)
from sagaops.rules.repairs import (
    can_compensate,
    can_mark_done,
    can_resolve,
    can_retry,
    can_retry_compensation,
    can_skip,
    compensate_change,
    mark_done_change,
    payload_diff,
    resolve_change,
    retry_change,
    retry_compensation_change,
    skip_change,
)

__all__ = [
    "batch_size", "can_cancel", "can_pause", "can_resume", "next_tick_due", "rate_refusal",
    "DUPLICATE", "HOLD_RECHECK", "IDLE", "LEASE_MARGIN", "STALL_GRACE", "AttentionCode", "Change", "Event", "EventKind",
    "Failure", "Move", "MoveKind", "Refusal", "abandoned", "attempt_in_flight", "breaker_reason",
    "breaker_trips", "can_cancel_release", "can_complete_by_hand", "can_edit_result", "complete_by_hand_change",
    "compensation_plan", "edit_result_change", "result_diff", "can_compensate", "can_pause_release", "can_release",
    "can_release_step", "holding", "on_step_held", "on_step_released", "release_batch", "target_refusal",
    "can_mark_done", "can_resolve", "can_retry", "can_retry_compensation", "can_skip", "compensate_change",
    "failure_of", "is_stalled", "mark_done_change", "needs_compensation", "next_move", "on_callback_complete",
    "on_callback_fail", "on_claim_released", "on_compensation_claimed", "on_compensation_failed",
    "on_compensation_lease_expired", "on_compensation_succeeded", "on_finished", "on_lease_expired",
    "on_step_claimed", "on_step_failed", "on_step_succeeded", "on_step_waiting", "on_turn_back",
    "payload_diff", "pivot_passed", "resolve_change", "results_for", "retry_change",
    "retry_compensation_change", "skip_change", "unsettled_step", "can_retry_branch", "retry_branch_change",
]  # fmt: skip
