"""Fault injection for demos, tests and soak runs; off unless configured.

A spec is a comma-separated list of `point=kind[:arg]`:
    payments.charge=error:0.2     raise InjectedFault in 20% of calls (a transient error)
    payments.charge=first:2       raise InjectedFault in the first 2 calls only (counted in Redis)
    inventory.reserve=delay:2     sleep 2 seconds, then carry on
    orders.notify=hang            sleep until the step's timeout interrupts it (default 3600 s)
    orders.notify=hang:5          sleep 5 seconds, then carry on

The spec comes from SAGAOPS_FAULTS. With SAGAOPS_FAULTS_FROM_REDIS on, the Redis key
`sagaops:faults` overrides it at every call, so a running worker can be given faults.
A participant marks each operation with `@fault_point("<service>.<operation>")`: the fault
strikes before it runs, and `<service>.<operation>.reply` after it returned (work done, answer lost).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sagaops import keys
from sagaops.conf import conf
from sagaops.exceptions import InjectedFault
from sagaops.redis import get_redis

F = TypeVar("F", bound=Callable[..., Any])
REDIS_KEY = keys.FAULTS_KEY
KINDS = {"error", "first", "delay", "hang"}
COUNTER_KEY = keys.FAULT_CALLS_KEY


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: float


def parse_spec(spec: str) -> dict[str, Fault]:
    """Parse a fault spec; raises ValueError naming the bad entry."""
    faults: dict[str, Fault] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        point, sep, rule = entry.partition("=")
        kind, _, arg = rule.partition(":")
        if not sep or not point or kind not in KINDS:
            raise ValueError(f"bad fault {entry!r}: expected point=error:P, first:N, delay:S or hang[:S]")
        default = {"error": 1.0, "first": 1.0, "delay": 1.0, "hang": 3600.0}[kind]
        try:
            value = float(arg) if arg else default
        except ValueError:
            raise ValueError(f"bad fault {entry!r}: {arg!r} is not a number") from None
        faults[point.strip()] = Fault(kind, value)
    return faults


def current_spec() -> str:
    if conf.SAGAOPS_FAULTS_FROM_REDIS:
        override = get_redis().get(REDIS_KEY)
        if override is not None:
            return override
    return conf.SAGAOPS_FAULTS


def set_redis_spec(spec: str | None) -> None:
    """Give running workers a fault spec (None clears it). Validates first."""
    if spec is None:
        get_redis().delete(REDIS_KEY, COUNTER_KEY)
    else:
        parse_spec(spec)
        get_redis().delete(COUNTER_KEY)
        get_redis().set(REDIS_KEY, spec)


def inject(point: str) -> None:
    """Strike the fault configured for `point`, if any."""
    spec = current_spec()
    if spec:
        _strike(point, parse_spec(spec).get(point))


def _strike(point: str, fault: Fault | None) -> None:
    if fault is None:
        return
    if fault.kind == "error" and random.random() < fault.arg:
        raise InjectedFault(f"injected fault at {point}")
    if fault.kind == "first":
        if get_redis().hincrby(COUNTER_KEY, point, 1) <= fault.arg:
            raise InjectedFault(f"injected fault at {point}")
    if fault.kind in {"delay", "hang"}:
        time.sleep(fault.arg)


def fault_point(point: str) -> Callable[[F], F]:
    """Mark a participant's operation as the fault point `point`.

    The fault `point` strikes before the operation runs (nothing done); `point.reply` strikes
    after it returned (its work done and committed, the answer slow or lost), so a caller's retry
    must find the work already done. Put it outermost, above `@transaction.atomic`.
    """

    def decorate(operation: F) -> F:
        @functools.wraps(operation)
        def wrapper(*args, **kwargs):
            spec = current_spec()
            if not spec:
                return operation(*args, **kwargs)
            faults = parse_spec(spec)
            _strike(point, faults.get(point))
            result = operation(*args, **kwargs)
            _strike(f"{point}.reply", faults.get(f"{point}.reply"))
            return result

        wrapper.fault_point = point
        return wrapper

    return decorate
