"""What a repair will do, spelled out for its confirmation page: which step runs again, which
compensations run in which order (with the amounts the step results carry), what stays as it is.

A description only: the engine service decides and may still refuse. It reads the same rows the
service will read, so the page and the outcome agree unless the saga moves in between (then the
version fence refuses the action).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagaops.definitions import SagaDefinition
from sagaops.models import Saga, SagaStep
from sagaops.rules import payload_diff
from sagaops.states import StepStatus

# Result (or payload) fields worth showing next to a compensation: what is being given back.
AMOUNT_KEYS = ("amount", "total", "charged", "refund", "quantity", "reserved")
TOOK_EFFECT = (StepStatus.SUCCEEDED, StepStatus.RUNNING, StepStatus.WAITING)
ABSENT = object()


@dataclass
class PlanLine:
    verb: str  # "run again", "compensate", "skip", "keep", "mark compensated", "then run"
    step: str
    note: str = ""


def amounts(result: Any) -> str:
    if not isinstance(result, dict):
        return ""
    return ", ".join(f"{k} {result[k]}" for k in AMOUNT_KEYS if k in result)


def _compensable(definition: SagaDefinition | None, step: SagaStep) -> bool:
    if definition is None or step.index >= len(definition.steps):
        return True
    return definition.steps[step.index].compensation is not None


def _undo(definition, steps: list[SagaStep]) -> list[PlanLine]:
    """Compensations newest first over the steps that took (or may have taken) effect."""
    lines = []
    for step in sorted(steps, key=lambda s: -s.index):
        if (
            step.status not in TOOK_EFFECT
            and not step.outcome_unknown
            and step.status != StepStatus.COMPENSATION_FAILED
        ):
            continue
        if _compensable(definition, step):
            lines.append(PlanLine("compensate", step.name, amounts(step.result)))
        else:
            lines.append(PlanLine("keep", step.name, "no compensation: its effect stays"))
    return lines


def _failed_forward(steps: list[SagaStep], saga: Saga) -> SagaStep | None:
    for wanted in ((StepStatus.FAILED,), (StepStatus.RUNNING, StepStatus.WAITING, StepStatus.PENDING)):
        found = [s for s in steps if s.status in wanted]
        if found:
            return found[0]
    return next((s for s in steps if s.index == saga.current_step), None)


def repair_plan(action: str, saga: Saga, steps: list[SagaStep], definition, step_name: str = "") -> list[PlanLine]:
    def after(index: int) -> list[PlanLine]:
        return [PlanLine("then run", s.name) for s in steps if s.index > index]

    if action == "retry":
        step = _failed_forward(steps, saga)
        if step is None:
            return []
        note = f"attempts reset (it had {step.attempts})" + (
            f"; last error: {step.last_error[:120]}" if step.last_error else ""
        )
        return [PlanLine("run again", step.name, note), *after(step.index)]
    if action == "skip_step":
        step = next((s for s in steps if s.name == step_name), None)
        return [] if step is None else [PlanLine("skip", step.name, "marked skipped, not run"), *after(step.index)]
    if action == "compensate":
        return _undo(definition, steps)
    if action == "retry_compensation":
        failed = [s for s in steps if s.status == StepStatus.COMPENSATION_FAILED]
        if not failed:
            return []
        first = failed[-1]
        earlier = [s for s in steps if s.index < first.index]
        line = PlanLine(
            "compensate",
            first.name,
            f"again, attempts reset (it had {first.compensation_attempts}); {amounts(first.result)}".rstrip("; "),
        )
        return [line, *_undo(definition, earlier)]
    if action == "compensation_done":
        step = next((s for s in steps if s.name == step_name), None)
        if step is None:
            return []
        earlier = [s for s in steps if s.index < step.index]
        return [PlanLine("mark compensated", step.name, "you undid it by hand"), *_undo(definition, earlier)]
    if action == "resolve":
        held = [s for s in steps if s.status in (StepStatus.SUCCEEDED, StepStatus.COMPENSATION_FAILED)]
        return [
            PlanLine("keep", s.name, f"stays {s.status.replace('_', ' ')}; {amounts(s.result)}".rstrip("; "))
            for s in held
        ]
    return []


def pivot_warning(definition: SagaDefinition | None, steps: list[SagaStep], changed: list[str]) -> str:
    """A payload edit after the pivot changes data steps that already took effect may have used."""
    if not changed or definition is None or definition.pivot_index is None:
        return ""
    done = [s.name for s in steps if s.status == StepStatus.SUCCEEDED]
    pivot = definition.steps[definition.pivot_index].name
    if pivot not in done:
        return ""
    return (
        f"The saga is past its pivot ({pivot}): steps {', '.join(done)} already ran with the old payload and "
        f"will not run again. Changing {', '.join(changed)} only affects the steps still to run, "
        "so the two may disagree."
    )


@dataclass
class DiffRow:
    key: str
    before: Any  # ABSENT when the key was not there
    after: Any

    @property
    def before_absent(self) -> bool:
        return self.before is ABSENT

    @property
    def after_absent(self) -> bool:
        return self.after is ABSENT


def payload_changes(before: dict, after: dict) -> list[DiffRow]:
    """Top-level keys that changed (`sagaops.rules.payload_diff`, the diff the timeline records);
    an absent key and a key set to null are different changes."""
    diff = payload_diff(before, after)
    return [DiffRow(key, sides.get("before", ABSENT), sides.get("after", ABSENT)) for key, sides in diff.items()]
