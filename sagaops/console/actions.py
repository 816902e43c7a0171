"""The operator actions the console offers: label, permission, when it makes sense, which service runs it.

The rules (`sagaops.rules.repairs`) decide; `offered` asks them, as the services do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from sagaops import rules, services
from sagaops.definitions import find_definition
from sagaops.models import Saga, SagaStep


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    permission: str  # codename in the sagaops app
    explain: str
    per_step: bool = False  # needs a step name (skip, mark compensation done)
    danger: bool = False

    @property
    def perm(self) -> str:
        return f"sagaops.{self.permission}"

    def allowed(self, user) -> bool:
        return user.has_perm(self.perm)

    def run(self, *, saga_id, user, reason: str, expected_version: int | None, step: str = "", payload=None) -> Saga:
        kwargs: dict[str, Any] = {
            "saga_id": saga_id,
            "user": user,
            "reason": reason,
            "expected_version": expected_version,
        }
        if self.per_step:
            kwargs["step_name"] = step
        if self.name == "retry" and payload is not None:
            kwargs["payload"] = payload
        return SERVICES[self.name](**kwargs)


SERVICES: dict[str, Callable[..., Saga]] = {
    "retry": services.saga_retry,
    "compensate": services.saga_compensate,
    "retry_compensation": services.saga_retry_compensation,
    "skip_step": services.step_skip,
    "compensation_done": services.compensation_mark_done,
    "resolve": services.saga_resolve,
    "retry_branch": services.branch_retry,
}

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action(
            "retry",
            "Retry forward",
            "retry_saga",
            "Runs the saga forward again from the failed (or stalled) step, with its attempts reset (not offered "
            "while an attempt is in flight; an abandoned attempt stays marked for compensation). "
            "Use it once the cause is fixed. You may edit the start payload; the change is shown as a diff "
            "before you confirm and is recorded on the timeline.",
        ),
        Action(
            "compensate",
            "Force compensation",
            "compensate_saga",
            "Turns the saga back: every step that took (or may have taken) effect is compensated in reverse "
            "order. Steps past the pivot have no compensation, so use it only before the pivot or when the "
            "business agrees to undo.",
            danger=True,
        ),
        Action(
            "retry_compensation",
            "Retry compensation",
            "retry_compensation_saga",
            "Runs the failed compensation again (attempts reset), then the remaining ones. Use it once the "
            "participant is reachable again.",
        ),
        Action(
            "skip_step",
            "Skip step",
            "skip_step_saga",
            "Marks the failed step as skipped (you did its work by hand, or it is not needed) and goes on "
            "with the next step.",
            per_step=True,
            danger=True,
        ),
        Action(
            "compensation_done",
            "Mark compensation done",
            "skip_step_saga",
            "Records that you undid this step by hand (e.g. refunded in the payment provider's console); "
            "the saga carries on compensating the earlier steps.",
            per_step=True,
        ),
        Action(
            "retry_branch",
            "Retry branch",
            "retry_saga",
            "Runs this failed branch of its Parallel group again, with its attempts reset; the other "
            "branches keep their outcomes. Use it once the cause is fixed.",
            per_step=True,
        ),
        Action(
            "resolve",
            "Resolve by hand",
            "resolve_saga",
            "Closes the saga as resolved: you settled it outside sagaops. Nothing runs any more. Offered for "
            "any unfinished saga once no attempt is in flight. "
            "Say in the reason what was done.",
            danger=True,
        ),
    ]
}

# The actions a bulk run may apply (per-step ones take the step from the failure group).
BULK_ACTIONS = ("retry", "compensate", "retry_compensation", "resolve", "skip_step", "compensation_done")


def offered(saga: Saga, steps: list[SagaStep], user) -> list[tuple[Action, str]]:
    """(action, step name) pairs to show as buttons: permitted, and accepted by the same rule the
    service enforces (`sagaops.rules.repairs`), so a button is there exactly when it would work."""
    return [(ACTIONS[name], step) for name, step in acceptable(saga, steps) if ACTIONS[name].allowed(user)]


# Each action's guard (`sagaops.rules.repairs`), as the services enforce it: (saga, definition,
# steps, step name, now) -> Refusal | None.
GUARDS: dict[str, Callable[..., rules.Refusal | None]] = {
    "retry": lambda saga, d, steps, step, now: rules.can_retry(saga, d, steps, now=now),
    "compensate": lambda saga, d, steps, step, now: rules.can_compensate(saga, d, steps, now=now),
    "retry_compensation": lambda saga, d, steps, step, now: rules.can_retry_compensation(saga, d, steps, now=now),
    "compensation_done": lambda saga, d, steps, step, now: rules.can_mark_done(saga, steps, step, now=now),
    "skip_step": lambda saga, d, steps, step, now: rules.can_skip(saga, steps, step, now=now),
    "retry_branch": lambda saga, d, steps, step, now: _branch_guard(saga, d, steps, step),
    "resolve": lambda saga, d, steps, step, now: rules.can_resolve(saga, steps, now=now),
}


def _branch_guard(saga: Saga, definition, steps: list[SagaStep], name: str) -> rules.Refusal | None:
    step = next((s for s in steps if s.name == name), None)
    if step is None:
        return rules.Refusal(f"the saga has no step {name}", field="step")
    return rules.can_retry_branch(saga, definition, step)


def refusal(name: str, saga: Saga, steps: list[SagaStep], *, step: str = "", now=None) -> rules.Refusal | None:
    """Why the action `name` would be refused on this saga now, or None if it would be applied."""
    definition = find_definition(saga.type, saga.definition_version)
    return GUARDS[name](saga, definition, steps, step, now or timezone.now())


def acceptable(saga: Saga, steps: list[SagaStep], now=None) -> list[tuple[str, str]]:
    now = now or timezone.now()
    names = [s.name for s in steps]
    pairs: list[tuple[str, str]] = []
    for action in (
        "retry",
        "compensate",
        "retry_compensation",
        "compensation_done",
        "skip_step",
        "retry_branch",
        "resolve",
    ):
        for step in names if ACTIONS[action].per_step else [""]:
            if refusal(action, saga, steps, step=step, now=now) is None:
                pairs.append((action, step))
    return pairs


def can_repair(user) -> bool:
    return any(a.allowed(user) for a in ACTIONS.values())
