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


def acceptable(saga: Saga, steps: list[SagaStep], now=None) -> list[tuple[str, str]]:
    now = now or timezone.now()
    definition = find_definition(saga.type, saga.definition_version)
    pairs: list[tuple[str, str]] = []
    if rules.can_retry(saga, definition, steps, now=now) is None:
        pairs.append(("retry", ""))
    if rules.can_compensate(saga, definition, steps, now=now) is None:
        pairs.append(("compensate", ""))
    if rules.can_retry_compensation(saga, definition, steps, now=now) is None:
        pairs.append(("retry_compensation", ""))
    names = [s.name for s in steps]
    pairs += [("compensation_done", n) for n in names if rules.can_mark_done(saga, steps, n, now=now) is None]
    pairs += [("skip_step", n) for n in names if rules.can_skip(saga, steps, n, now=now) is None]
    pairs += [("retry_branch", s.name) for s in steps if rules.can_retry_branch(saga, definition, s) is None]
    if rules.can_resolve(saga, steps, now=now) is None:
        pairs.append(("resolve", ""))
    return pairs


def can_repair(user) -> bool:
    return any(a.allowed(user) for a in ACTIONS.values())
