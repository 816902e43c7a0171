import os
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
    logfile = open(OUTPUT / f"worker-{name}.log", "ab")
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
    proc = subprocess.Popen(cmd, cwd=ROOT, env=worker_env(**env), stdout=logfile, stderr=subprocess.STDOUT)
    wait_for_worker(name, proc)
    return proc


def wait_for_worker(name: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    from sagaops.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker {name} exited with {proc.returncode}; see test-output/worker-{name}.log")
        replies = app.control.ping(timeout=0.5) or []
        if any(name in next(iter(reply)) for reply in replies):
            return
    raise RuntimeError(f"worker {name} did not answer within {timeout}s")


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
