import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from sagaops.redis import get_redis

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output" / f"slot{os.environ.get('SAGAOPS_TEST_SLOT', '0')}"


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty test Redis database (the mirror, timers, locks, faults)."""
    get_redis().flushdb()
    yield


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


def start_worker(name: str, *, beat: bool = True, concurrency: int = 2, **env: str) -> subprocess.Popen:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log_path = OUTPUT / f"worker-{name}.log"
    log_path.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "sagaops",
        "worker",
        "-n",
        f"{name}@%h",
        f"--concurrency={concurrency}",
        "--loglevel=INFO",
        "--without-mingle",
        "--without-gossip",
    ]
    if beat:
        cmd += ["-B", "--schedule", str(OUTPUT / f"beat-{name}")]
    # Its own session: a test can kill the worker and its pool children together (os.killpg).
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=worker_env(**env),
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_ready(name, proc, log_path)
    except RuntimeError:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return proc


def wait_for_ready(name: str, proc: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    """Celery logs "<name>@<host> ready." once it consumes from the broker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker {name} exited with {proc.returncode}; see {log_path}")
        if " ready." in log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"worker {name} was not ready within {timeout}s; see {log_path}")


def stop_worker(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker (with embedded beat) on the real broker and the test database."""
    from sagaops.celery import app

    app.control.purge()
    proc = start_worker("suite", SAGAOPS_CHECKOUT_STEP_TIMEOUT="3")
    yield proc
    stop_worker(proc)


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
