"""Place random orders against the seeded catalog; some are meant to fail (huge quantities,
poor customers, reused coupons) so the console shows compensations next to completions."""

import random
import time

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.selectors import product_list
from orders.demo import random_order
from orders.exceptions import OrderError
from orders.provisioning import PROVISIONING, WAREHOUSES
from orders.selectors import order_list
from orders.services import order_place
from payments.selectors import account_list, coupon_list
from sagaops.exceptions import SagaError
from sagaops.faults import set_redis_spec
from sagaops.services import saga_start

FINISHED = {"completed", "compensated", "stuck", "resolved"}


class Command(BaseCommand):
    help = (
        "Place N random demo orders (run sagaops_seed first) and start provisioning sagas (a 10-way "
        "fan-out and a child saga); optionally give workers a fault spec."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, required=True, help="how many orders to place")
        parser.add_argument(
            "--faults",
            help='fault spec for the running workers, e.g. "payments.charge=error:0.2"; "off" clears it',
        )
        parser.add_argument("--seed", type=int, help="random seed, for a repeatable run")
        parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the sagas to finish")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when orders already exist")
        parser.add_argument(
            "--provisioning",
            type=int,
            default=1,
            help="how many provisioning sagas to start (ten warehouses at once and a child saga; every "
            "second one has a warehouse refuse, so it compensates); default 1",
        )

    def handle(
        self,
        *args,
        orders: int,
        faults: str | None,
        seed: int | None,
        wait: float,
        if_empty: bool,
        provisioning: int,
        **options,
    ) -> None:
        if orders < 0:
            raise CommandError("--orders must be 0 or more")
        if provisioning < 0:
            raise CommandError("--provisioning must be 0 or more")
        if if_empty and order_list().exists():
            self.stdout.write("orders exist already: no demo orders placed")
            return
        if faults is not None:
            self._faults_set(faults)
        catalog = list(product_list())
        customers = list(account_list().values_list("customer", flat=True))
        coupons = list(coupon_list().values_list("code", flat=True))
        if orders and (not catalog or not customers):
            raise CommandError("the catalog is empty: run `manage.py sagaops_seed` first")
        rng = random.Random(seed)
        sagas = [s for s in (self._place(rng, n, catalog, customers, coupons) for n in range(orders)) if s]
        sagas += [self._provision(n) for n in range(provisioning)]
        self.stdout.write(f"placed {len(sagas)} of {orders} orders ({orders - len(sagas)} refused at placement)")
        if wait and sagas:
            self._wait(sagas, wait)

    def _faults_set(self, spec: str) -> None:
        try:
            set_redis_spec(None if spec.strip().lower() in {"", "off", "none"} else spec)
        except ValueError as error:
            raise CommandError(f"--faults: {error}") from None
        except redis.RedisError as error:
            raise CommandError(f"Redis is not reachable at {settings.REDIS_URL}: {error}") from None
        self.stdout.write(f"faults for the workers: {spec or 'off'}")

    def _provision(self, n: int):
        payload = {"store": f"store-{n + 1}"}
        if n % 2:
            payload["refuse"] = WAREHOUSES[6]
        saga, _ = saga_start(saga_type=PROVISIONING, payload=payload)
        refused = f" ({payload['refuse']} will refuse)" if "refuse" in payload else ""
        self.stdout.write(f"provisioning {payload['store']}: saga={saga.id} [10 warehouses, 1 child saga]{refused}")
        return saga

    def _place(self, rng: random.Random, n: int, catalog: list, customers: list, coupons: list):
        request = random_order(rng, catalog, customers, coupons)
        what = ", ".join(f"{i['quantity']}x{i['sku']}" for i in request["items"])
        try:
            order, saga = order_place(**request, correlation_id=f"demo:{rng.getrandbits(64):016x}")
        except (OrderError, SagaError) as error:
            self.stdout.write(f"#{n + 1:<4} refused  {request['customer']:<8} {what}: {error}")
            return None
        coupon = request["coupon"] or "-"
        self.stdout.write(
            f"#{n + 1:<4} order {order.pk:<6} {order.customer:<8} {order.total:>9} coupon={coupon:<7} "
            f"saga={saga.id} [{what}]"
        )
        return saga

    def _wait(self, sagas: list, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            for saga in sagas:
                saga.refresh_from_db(fields=["status"])
            if all(s.status in FINISHED for s in sagas) or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        counts: dict[str, int] = {}
        for saga in sagas:
            counts[saga.status] = counts.get(saga.status, 0) + 1
        self.stdout.write("sagas: " + ", ".join(f"{status} {count}" for status, count in sorted(counts.items())))
