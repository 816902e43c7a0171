"""Point this test process's Celery app at another broker for the length of a test, with the
same broker-dependent settings the workers get from sagaops.settings (sagaops/broker.py)."""

from __future__ import annotations

import os
import socket
import subprocess
from contextlib import contextmanager

from django.conf import settings
from kombu import Connection, pools

from project.celery import app
from sagaops.broker import broker_options

# The machine's RabbitMQ; each test slot gets its own virtual host there, so a quorum queue of
# ours never meets another run's queues.
RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672
RABBITMQ_VHOST = f"sagaops-test-slot{os.environ.get('SAGAOPS_TEST_SLOT', '0')}"


def rabbitmq_missing() -> str | None:
    """Why the RabbitMQ tests cannot run here, or None."""
    try:
        socket.create_connection((RABBITMQ_HOST, RABBITMQ_PORT), timeout=1).close()
    except OSError:
        return f"RabbitMQ is not running at {RABBITMQ_HOST}:{RABBITMQ_PORT} (start it: systemctl start rabbitmq-server)"
    return None


def rabbitmq_test_url() -> str:
    """The slot's virtual host on the machine's RabbitMQ, created once (rabbitmqctl, as root)."""
    for cmd in (["add_vhost", RABBITMQ_VHOST], ["set_permissions", "-p", RABBITMQ_VHOST, "guest", ".*", ".*", ".*"]):
        done = subprocess.run(["rabbitmqctl", "-q", *cmd], capture_output=True, text=True, timeout=60)
        if done.returncode != 0 and "already exists" not in done.stderr + done.stdout:
            raise RuntimeError(f"rabbitmqctl {' '.join(cmd)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return f"amqp://guest:guest@{RABBITMQ_HOST}:{RABBITMQ_PORT}/{RABBITMQ_VHOST}"


def conf_for(url: str) -> dict[str, object]:
    options = broker_options(
        url,
        visibility_timeout=settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600),
        heartbeat=settings.CELERY_BROKER_HEARTBEAT,
    )
    return {"broker_url": url, **options.as_celery_conf()}


def _switch(values: dict[str, object]) -> None:
    # kombu keeps one connection and producer pool per broker URL process-wide: start afresh.
    pools.reset()
    for key, value in values.items():
        # The app reads Django's settings under the CELERY_ namespace; Celery reads the broker URL
        # from the environment before its configuration.
        app.conf[f"CELERY_{key.upper()}"] = value
    os.environ["CELERY_BROKER_URL"] = values["broker_url"]
    app._pool = None
    # Both are built from the configuration on first use: queues (their type), producers, control.
    for cached in ("amqp", "control"):
        app.__dict__.pop(cached, None)


@contextmanager
def celery_app_on(url: str):
    saved = {key: app.conf[key] for key in conf_for(url)}
    _switch(conf_for(url))
    try:
        yield
    finally:
        _switch(saved)


def purge(url: str) -> None:
    """Empty the default queue (declaring it first: purging a queue that does not exist fails)."""
    with Connection(url, connect_timeout=5) as conn:
        queue = app.amqp.queues[app.conf.task_default_queue]
        bound = queue.bind(conn.default_channel)
        bound.declare()
        bound.purge()


def queue_type(url: str, name: str = "celery") -> str:
    """The x-queue-type RabbitMQ reports for a queue of the test's virtual host."""
    vhost = url.rsplit("/", 1)[1] or "/"
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "--no-table-headers", "name", "type"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    types = dict(line.split()[:2] for line in listed.stdout.splitlines() if line.strip())
    return types.get(name, "")
