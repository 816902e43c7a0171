"""Redis flushed or restarted, and PostgreSQL connections cut, in the middle of a run."""

import socket
import subprocess
import sys
import time

import pytest
import redis
from django.core.management import call_command
from django.db import connection

from orders.services import order_place
from sagaops import mirror
from sagaops.faults import set_redis_spec
from sagaops.models import Saga
from sagaops.redis import get_redis
from tests.conftest import worker_env
from tests.helpers import wait_for_status
from tests.reliability.conftest import wait_for_step

pytestmark = pytest.mark.django_db(transaction=True)

MS = [{"sku": "MS", "quantity": 1}]


def broker():
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def test_redis_flushed_mid_run_loses_no_saga(workers, ledger):
    # given sagas in flight and work queued on the broker
    set_redis_spec("inventory.reserve.reply=delay:1")
    workers("flushed")
    placed = [order_place(customer="ann", items=MS)[1] for _ in range(4)]
    wait_for_step(placed[0].id, "reserve_stock", ["running"])
    # when Redis loses everything: mirror, timers, locks, the fault spec, and the broker's queue
    get_redis().flushdb()
    broker().flushdb()
    # then every saga still finishes (the reconcile pass re-arms the timers from PostgreSQL)
    assert {wait_for_status(s.id, timeout=60).status for s in placed} == {"completed"}
    call_command("sagaops_rebuild_mirror", "--all")
    assert mirror.read(placed[-1].id)["status"] == "completed"
    assert ledger.problems() == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def test_redis_restarted_mid_run_loses_no_saga(workers, ledger):
    # given a worker and a demo run on a Redis server of the test's own
    port = free_port()
    server = start_redis(port)
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/1", "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0"}
    try:
        workers("restarted", **env)
        redis.Redis(port=port, db=1).set("sagaops:faults", "inventory.reserve.reply=delay:0.5")
        placing = subprocess.run(
            [sys.executable, "manage.py", "sagaops_demo", "--orders", "4", "--seed", "3"],
            env=worker_env(**env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert placing.returncode == 0, placing.stderr
        # when Redis dies mid-run and comes back empty
        server.kill()
        server.wait()
        time.sleep(1)
        server = start_redis(port)
        # then every saga settles
        for saga_id in Saga.objects.values_list("id", flat=True):
            assert wait_for_status(saga_id, timeout=90).status in ("completed", "compensated")
        assert ledger.problems() == []
    finally:
        server.kill()
        server.wait()


def test_database_connections_cut_mid_step_retry_the_step(workers, ledger):
    # given a worker inside the local confirm step's transaction
    set_redis_spec("orders.confirm=delay:2")
    workers("cut")
    order, saga = order_place(customer="ann", items=MS)
    wait_for_step(saga.id, "charge_payment", ["succeeded"])
    time.sleep(0.7)
    # when PostgreSQL drops every other connection to the test database
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1
    set_redis_spec(None)
    # then the step is rolled back and retried on a fresh connection, and applied once
    saga = wait_for_status(saga.id, timeout=60)
    assert saga.status == "completed"
    assert saga.events.filter(kind="step_succeeded", step="confirm_order").count() == 1
    assert ledger.problems() == []
