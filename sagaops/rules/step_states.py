"""What a step's status says: done forward, in flight, to be compensated. Pure."""

from __future__ import annotations

from sagaops.definitions import SagaDefinition
from sagaops.rules.protocols import StepState
from sagaops.states import StepStatus

T = StepStatus
DONE_FORWARD = (T.SUCCEEDED, T.SKIPPED)
IN_FLIGHT = (T.RUNNING, T.WAITING)


def pivot_passed(definition: SagaDefinition, steps: list[StepState]) -> bool:
    pivot = definition.pivot_index
    return pivot is not None and steps[pivot].status in DONE_FORWARD


def needs_compensation(definition: SagaDefinition, step: StepState) -> bool:
    spec = definition.steps[step.index]
    if spec.compensation is None:
        return False
    if step.status in (T.PENDING, T.HELD, T.FAILED) and spec.always_compensate:
        return True  # its effect was written before the step ran
    if step.status == T.FAILED:
        return step.outcome_unknown  # it may have taken effect
    if step.status in (T.PENDING, T.HELD) and step.outcome_unknown:
        # A branch left waiting for a retry when its group turned back (a step of the main
        # sequence in this state is marked failed by the turn back itself).
        return bool(spec.group)
    return step.status in (T.SUCCEEDED, T.COMPENSATING, T.COMPENSATION_FAILED)
