"""Checkout throughput with 1, 2 and 3 worker hosts (network namespaces) on this machine.

    python -m tests.scale.bench_hosts --hosts 1,2,3 --orders 300      (`make bench-hosts`)

Each host runs one Celery worker (concurrency 2, with a beat: they share the leader lease) that
reaches PostgreSQL, RabbitMQ and a Redis of the benchmark's own over its veth link. The benchmark
empties its database between runs, places the orders as fast as it can from the default
namespace, and prints, per host count, sagas per second (first placed to last finished) and the
latency of a saga (created to finished). All hosts share this machine's CPUs: docs/SCALING.md
says what the figures mean.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sagaops.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from inventory.models import Product  # noqa: E402
from orders.services import order_place  # noqa: E402
from payments.models import Account  # noqa: E402
from project.celery import app  # noqa: E402
from sagaops.models import Saga  # noqa: E402
from tests.scale.brokers import RABBITMQ_PORT, rabbitmq_missing  # noqa: E402
from tests.scale.hosts import Host, host_env, missing_tools  # noqa: E402
from tests.scale.servers import PrivateRedis  # noqa: E402

HEADER = "hosts  procs  orders  seconds  sagas/s  p50 ms  p95 ms  commits/saga  rows/saga  completed"
ROW = (
    "{hosts:>5}  {procs:>5}  {orders:>6}  {seconds:>7.2f}  {rate:>7.1f}  {p50:>6.0f}  {p95:>6.0f}"
    "  {commits:>12.1f}  {rows:>9.1f}  {completed}"
)
SETTLED = ("completed", "compensated", "stuck")
VHOST = "sagaops-bench-hosts"
SLOT = 9  # namespace names and link addresses of their own: never a test slot's (0-4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1,2,3", help="comma-separated host counts to run (default 1,2,3)")
    parser.add_argument("--orders", type=int, default=300, help="orders per run (default 300)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes per host (default 2)")
    args = parser.parse_args()
    try:
        counts = [int(n) for n in args.hosts.split(",")]
    except ValueError:
        parser.error(f"--hosts takes numbers separated by commas, not {args.hosts!r}")
    if not all(1 <= n <= 9 for n in counts) or args.orders < 1:
        parser.error("--hosts counts must be 1 to 9 and --orders at least 1")
    for reason in (missing_tools(), rabbitmq_missing()):
        if reason:
            print(f"bench-hosts: {reason}", file=sys.stderr)
            return 1
    broker_url = settings.CELERY_BROKER_URL
    if not broker_url.endswith(f"/{VHOST}"):
        print(f"bench-hosts: run it with CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/{VHOST}", file=sys.stderr)
        return 1
    logging.getLogger("sagaops").setLevel(logging.WARNING)  # one line per placed saga otherwise
    redis = PrivateRedis().start()
    settings.REDIS_URL = redis.url(0)  # this process publishes the new sagas' mirror there too
    try:
        print(HEADER)
        for count in counts:
            row = run(count, args.orders, args.concurrency, broker_url, redis)
            row["procs"] = count * args.concurrency
            print(ROW.format(**row), flush=True)
    finally:
        redis.kill()
    return 0


def run(count: int, orders: int, concurrency: int, broker_url: str, redis) -> dict:
    call_command("flush", interactive=False, verbosity=0)
    Product.objects.create(sku="BENCH", name="bench item", price=Decimal("1.00"), stock=10**9)
    Account.objects.create(customer="bench", balance=Decimal("1000000000.00"))
    db = connection.settings_dict
    base = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis.url(0),
        "CELERY_BROKER_URL": broker_url,
        "PYTHONUNBUFFERED": "1",
    }
    log_dir = _log_dir()
    hosts = [Host(SLOT, n) for n in range(1, count + 1)]
    workers = []
    try:
        for host in hosts:
            host.create(sorted({int(db["PORT"] or 5432), redis.port, RABBITMQ_PORT}))
            env = host_env(host, base)
            worker = host.worker(f"bench-h{host.number}", log_dir=log_dir, env=env, concurrency=concurrency)
            workers.append(worker.start())
        before = _database_counters()
        row = _measure(count, orders)
    finally:
        for worker in workers:
            worker.stop()
        for host in hosts:
            host.delete()
    # The workers' connections are closed now, so PostgreSQL has counted all their transactions.
    after = _database_counters()
    row["commits"] = (after[0] - before[0]) / orders
    row["rows"] = (after[1] - before[1]) / orders
    return row


def _database_counters() -> tuple[int, int]:
    """(transactions committed, rows written) in this database so far, from pg_stat_database."""
    connection.close()  # a backend reports its own counters when it ends
    time.sleep(0.5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        return cursor.fetchone()


def _measure(count: int, orders: int) -> dict:
    app.control.purge()
    started = time.monotonic()
    ids = [order_place(customer="bench", items=[{"sku": "BENCH", "quantity": 1}])[1].id for _ in range(orders)]
    deadline = started + 60 + orders
    while Saga.objects.filter(id__in=ids).exclude(status__in=SETTLED).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    sagas = Saga.objects.filter(id__in=ids, finished_at__isnull=False)
    spans = [(s.created_at, s.finished_at) for s in sagas]
    first, last = min(c for c, _ in spans), max(f for _, f in spans)
    seconds = (last - first).total_seconds()
    latencies = sorted((f - c).total_seconds() * 1000 for c, f in spans)
    return {
        "hosts": count,
        "orders": orders,
        "seconds": seconds,
        "rate": len(spans) / seconds if seconds else 0.0,
        "p50": statistics.median(latencies),
        "p95": latencies[int(len(latencies) * 0.95) - 1] if len(latencies) > 1 else latencies[0],
        "completed": f"{sagas.filter(status='completed').count()}/{orders}",
    }


def _log_dir() -> Path:
    path = Path(__file__).resolve().parents[2] / "test-output" / "bench-hosts"
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
