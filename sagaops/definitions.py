"""The saga DSL: a definition is an ordered list of steps, each with an optional compensation.

    checkout = SagaDefinition(name="order.checkout", version=1, steps=[Step(...), ...])
    register(checkout)

A step's action and compensation take one `StepContext` and return a JSON-able result. A
`Parallel` group in the list runs its branches (each one step or a short sequence) concurrently;
`sagaops.children.ChildSaga` makes a step that runs another saga (see docs/BRANCHES.md).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

from sagaops.exceptions import SagaDefinitionError, UnknownSagaType

StepKind = Literal["local", "remote", "async"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how fast a failing action (or compensation) is tried again."""

    max_attempts: int = 3
    initial_delay: float = 0.5
    backoff: float = 2.0
    max_delay: float = 60.0
    jitter: float = 0.1
    # Exception types that mean "this will never work": no retry, go straight to the failure path.
    non_retryable: tuple[type[BaseException], ...] = ()

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt `attempt + 1`, given `attempt` tries so far (>= 1)."""
        base = min(self.initial_delay * self.backoff ** max(attempt - 1, 0), self.max_delay)
        return base * (1 + random.uniform(0, self.jitter))

    def is_retryable(self, error: BaseException | None) -> bool:
        return error is None or not isinstance(error, self.non_retryable)


@dataclass(frozen=True)
class BreakerPolicy:
    """When a step's transient failures spike, hold the step (see sagaops.rules.holds.breaker_trips).

    Trips when, within the last `window` seconds, at least `min_failures` attempts failed with a
    retryable error and they are at least `failure_rate` of the attempts that ended.
    """

    window: float = 30.0
    min_failures: int = 10
    failure_rate: float = 0.5


DEFAULT_RETRY = RetryPolicy()
DEFAULT_BREAKER = BreakerPolicy()
DEFAULT_COMPENSATION_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.5, backoff=2.0)


@dataclass(frozen=True)
class StepContext:
    """What a step's action or compensation is given."""

    saga_id: str
    saga_type: str
    step: str
    payload: dict[str, Any]
    results: dict[str, Any]
    attempt: int
    idempotency_key: str
    correlation_id: str

    @property
    def action_key(self) -> str:
        """The forward action's key, `<saga id>:<step>`: what a compensation undoes."""
        return f"{self.saga_id}:{self.step}"


@dataclass(frozen=True)
class Step:
    """One step of a saga.

    kind:
      local  - runs in this database; action and checkpoint commit in one transaction (exactly once).
      remote - any other call; at-least-once, so it receives a stable `idempotency_key`.
      async  - the action sends a command; the step waits for a callback through the API.
    pivot: once this step has succeeded, the saga can only go forward (no compensation).
    compensation=None makes a retry-only step.
    always_compensate: the step's effect may exist before it runs (a row written together with
      the saga, say), so a saga that turns back compensates it even if it never succeeded.
    participant: the service the step calls ("payments"): a hold on a participant holds every
      step that declares it.
    breaker: when the step's transient failures spike it is held automatically; None turns it off.
    """

    name: str
    action: Callable[[StepContext], Any]
    compensation: Callable[[StepContext], Any] | None = None
    kind: StepKind = "local"
    retry: RetryPolicy = DEFAULT_RETRY
    compensation_retry: RetryPolicy = DEFAULT_COMPENSATION_RETRY
    timeout: float = 30.0
    pivot: bool = False
    always_compensate: bool = False
    participant: str = ""
    breaker: BreakerPolicy | None = DEFAULT_BREAKER
    # Set when the definition is built, never by hand: the Parallel group and the branch (its
    # first step's name) this step belongs to, "" for a step of the saga's own sequence.
    group: str = ""
    branch: str = ""
    # Set by sagaops.children.ChildSaga: the saga type this step runs as a child saga.
    child_type: str = ""


# A group fans out to at most this many branches: each is a task and a set of rows per saga.
MAX_BRANCHES = 32
# A branch is a short sequence: a longer one is a saga of its own (a ChildSaga).
MAX_BRANCH_STEPS = 5


@dataclass(frozen=True)
class Parallel:
    """A group of branches that run concurrently; each branch is one step or a short sequence.

    The group succeeds when every branch has. When one fails, the branches still running are
    awaited, those that took effect are compensated concurrently, and the saga turns back.
    timeout: seconds from the group's first start after which it turns the saga back (None: none).
    max_fan_out: how many branches run at once (None: all of them).
    """

    name: str
    branches: list[Step | list[Step]]
    timeout: float | None = None
    max_fan_out: int | None = None

    def sequences(self) -> list[list[Step]]:
        return [list(b) if isinstance(b, list | tuple) else [b] for b in self.branches]


@dataclass(frozen=True)
class GroupSpec:
    """A Parallel group as the engine sees it: its branches as runs of step indexes."""

    name: str
    first: int  # index of its first step
    branches: tuple[tuple[int, ...], ...]
    timeout: float | None
    max_fan_out: int | None

    @property
    def indexes(self) -> range:
        return range(self.first, self.first + sum(len(b) for b in self.branches))


def _flatten(saga: str, items: list) -> tuple[list[Step], list[GroupSpec]]:
    """The definition's steps in order (a group's branches one after another) and its groups."""
    steps: list[Step] = []
    groups: list[GroupSpec] = []
    for item in items:
        if isinstance(item, Step):
            steps.append(item)
        elif isinstance(item, Parallel):
            sequences = _checked_group(saga, item)
            first, runs = len(steps), []
            for sequence in sequences:
                runs.append(tuple(range(len(steps), len(steps) + len(sequence))))
                steps += [replace(s, group=item.name, branch=sequence[0].name) for s in sequence]
            groups.append(GroupSpec(item.name, first, tuple(runs), item.timeout, item.max_fan_out))
        else:
            raise SagaDefinitionError(f"{saga}: steps: {item!r} is neither a Step nor a Parallel group")
    return steps, groups


def _checked_group(saga: str, group: Parallel) -> list[list[Step]]:
    where = f"{saga}: Parallel {group.name!r}"
    sequences = group.sequences()
    if len(sequences) < 2:
        raise SagaDefinitionError(f"{where}: branches: a group needs at least two branches")
    if len(sequences) > MAX_BRANCHES:
        raise SagaDefinitionError(f"{where}: branches: at most {MAX_BRANCHES} branches, not {len(sequences)}")
    if group.max_fan_out is not None and group.max_fan_out < 1:
        raise SagaDefinitionError(f"{where}: max_fan_out: must be at least 1")
    if group.timeout is not None and group.timeout <= 0:
        raise SagaDefinitionError(f"{where}: timeout: must be positive seconds")
    for sequence in sequences:
        if not sequence or len(sequence) > MAX_BRANCH_STEPS:
            raise SagaDefinitionError(f"{where}: branches: a branch has 1 to {MAX_BRANCH_STEPS} steps")
        for step in sequence:
            if not isinstance(step, Step):
                raise SagaDefinitionError(f"{where}: branches: {step!r} is not a Step (groups do not nest)")
            if step.pivot:
                raise SagaDefinitionError(f"{where}: step {step.name!r}: a pivot cannot be inside a branch")
            if step.child_type:
                raise SagaDefinitionError(f"{where}: step {step.name!r}: a child saga cannot be inside a branch")
    return sequences


@dataclass(frozen=True)
class SagaDefinition:
    name: str
    steps: list[Step]
    version: int = 1
    timeout: timedelta = timedelta(minutes=10)
    description: str = ""
    # A DRF serializer class the start payload must satisfy: `POST /api/sagas/` answers 400 naming
    # the field otherwise. None accepts any JSON object.
    payload_schema: type | None = field(default=None, compare=False)
    # Business keys an operator searches by (order id, customer, a charge id, ...), found in the
    # start payload or in a step's result: the console's and the API's search match them exactly,
    # through GIN indexes on the payload and on `Saga.search` (the keys results brought).
    search_keys: tuple[str, ...] = ()
    # Choreographed: services run the steps by reacting to events (sagaops.choreography tracks
    # them); the executor never runs them, and force compensation calls `on_force_compensate`.
    choreographed: bool = False
    on_force_compensate: Callable[..., None] | None = field(default=None, repr=False, compare=False)
    _by_name: dict[str, Step] = field(default_factory=dict, init=False, repr=False, compare=False)
    # The Parallel groups; `steps` holds every step, a group's branches one after another.
    groups: tuple[GroupSpec, ...] = field(default=(), init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.steps:
            raise SagaDefinitionError(f"{self.name}: a saga needs at least one step")
        steps, groups = _flatten(self.name, self.steps)
        names = [s.name for s in steps] + [g.name for g in groups]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SagaDefinitionError(f"{self.name}: step names must be unique (across branches too): {duplicates}")
        if sum(1 for s in steps if s.pivot) > 1:
            raise SagaDefinitionError(f"{self.name}: at most one pivot step")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "groups", tuple(groups))
        self._by_name.update({s.name: s for s in steps})

    def step(self, name: str) -> Step:
        return self._by_name[name]

    def group_of(self, index: int) -> GroupSpec | None:
        """The Parallel group step `index` belongs to, None for a step of the main sequence."""
        if not self.steps[index].group:
            return None
        return next(g for g in self.groups if index in g.indexes)

    @property
    def pivot_index(self) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.pivot), None)


_registry: dict[tuple[str, int], SagaDefinition] = {}
_latest: dict[str, int] = {}


def register(definition: SagaDefinition) -> SagaDefinition:
    """Make a definition startable. New sagas use the highest version; in-flight ones keep theirs."""
    _registry[(definition.name, definition.version)] = definition
    _latest[definition.name] = max(_latest.get(definition.name, 0), definition.version)
    return definition


def get_definition(name: str, version: int | None = None) -> SagaDefinition:
    if name not in _latest:
        raise UnknownSagaType(name)
    version = _latest[name] if version is None else version
    try:
        return _registry[(name, version)]
    except KeyError:
        raise UnknownSagaType(f"{name} v{version}") from None


def find_definition(name: str, version: int | None = None) -> SagaDefinition | None:
    """Like get_definition, but None for a type this process does not know (another deploy's)."""
    try:
        return get_definition(name, version)
    except UnknownSagaType:
        return None


def registered_types() -> list[str]:
    return sorted(_latest)


def search_keys() -> list[str]:
    """Every key some registered definition declares searchable."""
    return sorted({key for definition in _registry.values() for key in definition.search_keys})


def registered_definitions() -> list[SagaDefinition]:
    """Every registered definition, each version, by name then version."""
    return [_registry[key] for key in sorted(_registry)]
