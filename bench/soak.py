"""The soak run: many checkouts under injected errors, hangs and killed workers, then the invariants.

It resets its own database, so it refuses to run on one whose name lacks "soak" (`make soak`).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench.processes import CeleryProcess
from inventory.models import Product
from inventory.services import product_ensure
from orders.demo import random_order
from orders.exceptions import OrderError
from orders.invariants import Ledger, check_invariants
from orders.services import order_place
from payments.services import account_ensure, coupon_ensure
from sagaops.exceptions import SagaError
from sagaops.faults import set_redis_spec
from sagaops.models import Saga, SagaEvent
from sagaops.redis import get_redis
from sagaops.selectors import saga_problems
from sagaops.states import ACTIVE_SAGA_STATUSES

LOG_DIR = Path(settings.BASE_DIR) / "test-output" / "soak"
DOMAIN_TABLES = [
    "orders_orderline",
    "orders_order",
    "payments_payment",
    "payments_coupon",
    "payments_account",
    "inventory_reservationline",
    "inventory_reservation",
    "inventory_product",
]
ENGINE_TABLES = ["sagaops_sagaevent", "sagaops_sagastep", "sagaops_saga"]


class SoakError(Exception):
    pass


@dataclass
class SoakReport:
    orders_placed: int = 0
    refused_at_placement: int = 0
    workers_killed: int = 0
    faults_injected: int = 0  # injected errors that reached a step
    timeouts: int = 0  # steps that ran past their timeout (injected hangs and delays)
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def check_isolated() -> None:
    name = settings.DATABASES["default"]["NAME"]
    if "soak" not in name:
        raise SoakError(f"database {name!r} is not a soak database: the soak empties it; run `make soak`")


def reset_and_seed(rng: random.Random) -> None:
    """Empty the soak database and Redis, then a catalog deep enough for thousands of orders."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(DOMAIN_TABLES + ENGINE_TABLES)} CASCADE")
    get_redis().flushdb()
    for n in range(10):
        product_ensure(sku=f"SOAK-{n:02d}", name=f"Soak product {n}", price=Decimal(5 + 7 * n), stock=5000)
    for n in range(100):
        account_ensure(customer=f"soak{n:03d}", balance=Decimal(rng.choice([20, 200, 2000, 20000])))
    for n in range(300):
        coupon_ensure(code=f"SOAKC{n:03d}", discount=Decimal("5.00"))


class Soak:
    def __init__(
        self,
        *,
        orders: int,
        faults: str,
        kill_every: float,
        workers: int,
        rate: float,
        timeout: float,
        seed: int,
        say: Callable[[str], None],
    ):
        self.orders, self.faults, self.kill_every = orders, faults, kill_every
        self.worker_count, self.rate, self.timeout = workers, rate, timeout
        self.rng = random.Random(seed)
        self.say = say
        self.report = SoakReport()
        self.generation = 0
        self.workers: list[CeleryProcess] = []

    def run(self) -> SoakReport:
        check_isolated()
        reset_and_seed(self.rng)
        before = Ledger.take()
        set_redis_spec(self.faults or None)
        beat = CeleryProcess("soak", log_dir=LOG_DIR, role="beat").start()
        started = time.monotonic()
        try:
            self.workers = [self._new_worker() for _ in range(self.worker_count)]
            self._place_orders()
            self._wait_settled()
        finally:
            set_redis_spec(None)
            for worker in self.workers:
                worker.stop()
            beat.stop()
        self.report.seconds = time.monotonic() - started
        self._collect(before)
        return self.report

    def _new_worker(self) -> CeleryProcess:
        self.generation += 1
        return CeleryProcess(f"soak{self.generation}", log_dir=LOG_DIR).start()

    def _place_orders(self) -> None:
        catalog = list(Product.objects.all())
        customers = [f"soak{n:03d}" for n in range(100)]
        coupons = [f"SOAKC{n:03d}" for n in range(300)]
        next_kill = time.monotonic() + self.kill_every if self.kill_every else None
        for n in range(self.orders):
            try:
                order_place(**random_order(self.rng, catalog, customers, coupons), correlation_id=f"soak:{n}")
                self.report.orders_placed += 1
            except (OrderError, SagaError):
                self.report.refused_at_placement += 1
            if next_kill and time.monotonic() >= next_kill:
                self._kill_one()
                next_kill = time.monotonic() + self.kill_every
            time.sleep(1 / self.rate)
            if (n + 1) % 200 == 0:
                self.say(f"placed {n + 1}/{self.orders}; workers killed so far: {self.report.workers_killed}")

    def _kill_one(self) -> None:
        victim = self.rng.randrange(len(self.workers))
        self.workers[victim].kill()
        self.report.workers_killed += 1
        self.workers[victim] = self._new_worker()

    def _wait_settled(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            active = Saga.objects.filter(status__in=ACTIVE_SAGA_STATUSES).count()
            if not active:
                return
            self.say(f"waiting for {active} saga(s) to settle")
            time.sleep(5)

    def _collect(self, before: Ledger) -> None:
        self.report.statuses = Counter(Saga.objects.values_list("status", flat=True))
        failures = SagaEvent.objects.filter(
            kind__in=["step_retry_scheduled", "step_failed", "compensation_failed", "compensation_retry_scheduled"]
        )
        self.report.faults_injected = failures.filter(detail__error__startswith="injected fault").count()
        self.report.timeouts = failures.filter(detail__error__contains="timed out").count()
        self.report.problems = check_invariants(before) + saga_problems(require_settled=True)
