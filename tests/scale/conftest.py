"""The scale-out stack under test: a broker (Redis or RabbitMQ) and a mirror of the test's own,
with workers started against them. The suite's own worker is paused and, because the mirror is
private, its beat cannot see these sagas' timers: only the test's workers drive them."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.test import override_settings

from bench.processes import CeleryProcess
from tests.conftest import OUTPUT, other_workers_paused, worker_env
from tests.reliability.conftest import ledger  # noqa: F401 (money and stock before the test)
from tests.scale.brokers import celery_app_on, purge, rabbitmq_missing, rabbitmq_test_url
from tests.scale.hosts import Host, missing_tools
from tests.scale.servers import REDIS_CLI, REDIS_SERVER, PrivateRedis
from tests.scale.servers import RedisCluster as RedisClusterServers


@dataclass
class Stack:
    broker: str
    broker_url: str
    redis: PrivateRedis
    redis_url: str
    started: list[CeleryProcess] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {"CELERY_BROKER_URL": self.broker_url, "REDIS_URL": self.redis_url}

    def worker(self, name: str, *, beat: bool = True, **env: str) -> CeleryProcess:
        env = {"SAGAOPS_CHECKOUT_STEP_TIMEOUT": "4", **self.env, **env}
        process = CeleryProcess(
            f"{self.broker}-{name}", log_dir=OUTPUT, env=worker_env(**env), concurrency=2, beat=beat
        ).start()
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in self.started:
            process.stop()


@pytest.fixture(params=["redis", "rabbitmq"])
def stack(request):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    if request.param == "rabbitmq" and (reason := rabbitmq_missing()):
        pytest.skip(reason)
    with other_workers_paused():  # on the suite's broker, before this process moves to the test's
        private = PrivateRedis().start()
        if request.param == "redis":
            stack = Stack("redis", private.url(0), private, private.url(1))
        else:
            try:
                url = rabbitmq_test_url()
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                private.kill()
                pytest.skip(f"RabbitMQ runs, but its virtual host for this slot cannot be made: {exc}")
            stack = Stack("rabbitmq", url, private, private.url(0))
        try:
            with celery_app_on(stack.broker_url), override_settings(REDIS_URL=stack.redis_url):
                if stack.broker == "rabbitmq":
                    purge(stack.broker_url)  # what an earlier, failed run may have left
                yield stack
        finally:
            stack.stop()
            private.kill()


@pytest.fixture(scope="session")
def redis_cluster():
    """A real three-master Redis Cluster on spare loopback ports, for the whole session."""
    if REDIS_SERVER is None or REDIS_CLI is None:
        pytest.skip("redis-server/redis-cli are not installed (apt-get install redis-server)")
    cluster = RedisClusterServers().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster(redis_cluster):
    """The cluster, emptied, with this process's mirror, timers and locks on it."""
    redis_cluster.flush()
    with override_settings(REDIS_URL=redis_cluster.url):
        yield redis_cluster


@pytest.fixture
def hosts(stack):
    """Three worker hosts (network namespaces) that reach the stack and the test database over
    their own links; removed by name at the end, whatever happened."""
    if reason := missing_tools():
        pytest.skip(reason)
    slot = int(os.environ.get("SAGAOPS_TEST_SLOT", "0"))
    ports = sorted({5432, stack.redis.port, urlsplit(stack.broker_url).port or 5672})
    made: list[Host] = []
    try:
        for number in (1, 2, 3):
            made.append(Host(slot, number))  # listed first: a half-made host is deleted too
            made[-1].create(ports)
        yield made
    finally:
        stack.stop()  # the workers inside first: a namespace with a process in it lingers
        for host in made:
            host.delete()
