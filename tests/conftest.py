import os
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench.processes import CeleryProcess
from sagaops.redis import get_redis

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output" / f"slot{os.environ.get('SAGAOPS_TEST_SLOT', '0')}"


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty test Redis database (the mirror, timers, locks, faults)."""
    get_redis().flushdb()
    yield


@pytest.fixture(autouse=True)
def workers_quiet_before_flush(request):
    """A transactional test ends by emptying every table (TRUNCATE). A worker still advancing one
    of the test's sagas would hold row locks the TRUNCATE waits on and can deadlock it, so first
    stop new work (purge the queue, drop the timers) and let running executors finish."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # torn down (flushed) after this fixture
    yield
    from project.celery import app
    from sagaops import mirror

    redis = get_redis()
    app.control.purge()
    redis.delete(*mirror.timer_keys())
    deadline = time.monotonic() + 20
    while next(redis.scan_iter("lock:saga:*", count=1000), None) and time.monotonic() < deadline:
        time.sleep(0.1)
    # A task the worker had already taken can still be writing: empty the tables here, trying
    # again if PostgreSQL picks the TRUNCATE as a deadlock victim; the flush after is then instant.
    for attempt in range(5):
        try:
            call_command("flush", verbosity=0, interactive=False)
            return
        except CommandError:
            if attempt == 4:
                raise
            time.sleep(0.5)


def worker_env(**extra: str) -> dict[str, str]:
    """Environment for a worker process that uses the test database and the test Redis databases."""
    env = os.environ.copy()
    name = connection.settings_dict["NAME"]
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
        SAGAOPS_RECONCILE_SECONDS="2",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def start_worker(name: str, *, beat: bool = True, concurrency: int = 2, **env: str) -> CeleryProcess:
    """A real Celery worker process (with embedded beat) on the test database."""
    return CeleryProcess(name, log_dir=OUTPUT, env=worker_env(**env), concurrency=concurrency, beat=beat).start()


@contextmanager
def other_workers_paused():
    """For tests that start workers of their own: those must be the only ones consuming."""
    from project.celery import app

    others = [name for reply in (app.control.ping(timeout=0.5) or []) for name in reply]
    if others:
        app.control.cancel_consumer("celery", destination=others, reply=True)
    try:
        yield
    finally:
        if others:
            app.control.add_consumer("celery", destination=others, reply=True)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker (with embedded beat) on the real broker and the test database."""
    from project.celery import app

    app.control.purge()
    worker = start_worker("suite", SAGAOPS_CHECKOUT_STEP_TIMEOUT="3")
    yield worker
    worker.stop()


@pytest.fixture
def catalog(db):
    """Two products, one rich customer (ann), one poor (pat), one coupon."""
    from decimal import Decimal

    from tests.inventory.factories import ProductFactory
    from tests.payments.factories import AccountFactory, CouponFactory

    ProductFactory(sku="KB", price=Decimal("89.00"), stock=10)
    ProductFactory(sku="MS", price=Decimal("29.50"), stock=10)
    AccountFactory(customer="ann", balance=Decimal("1000.00"))
    AccountFactory(customer="pat", balance=Decimal("5.00"))
    CouponFactory(code="TEN", discount=Decimal("10.00"))
