"""The mirror, the timers, the locks, the beat lease and the cache on a real three-master Redis
Cluster, and the checkout end to end with a worker whose REDIS_URL is `redis+cluster://`."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import redis
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.test import override_settings
from redis.cluster import RedisCluster

from orders.services import order_place
from sagaops import mirror
from sagaops.beat import LEASE_KEY
from sagaops.redis import connect, get_redis, node_url
from tests.helpers import wait_for_status
from tests.scale.brokers import celery_app_on, rabbitmq_missing, rabbitmq_test_url

pytestmark = pytest.mark.scale


def a_saga(**fields):
    defaults = dict(
        id=uuid.uuid4(), status="running", current_step=1, type="t", version=3, updated_at=datetime.now(UTC),
        correlation_id="c", last_error="", attention_reason="",
    )  # fmt: skip
    return SimpleNamespace(**{**defaults, **fields})


def test_a_cluster_url_names_one_node_and_database_zero(redis_cluster):
    assert isinstance(connect(redis_cluster.url), RedisCluster)
    with pytest.raises(redis.ConnectionError, match="Redis Cluster cannot be connected"):
        connect("redis+cluster://127.0.0.1:1")
    assert node_url("rediss+cluster://u:p@h:7000") == "rediss://u:p@h:7000"
    with pytest.raises(ValueError, match="only database 0"):
        node_url("redis+cluster://127.0.0.1:7000/1")


def test_the_mirror_spreads_over_every_node_and_reads_back(cluster):
    # given a hundred sagas published, each with an event
    sagas = [a_saga() for _ in range(100)]
    for saga in sagas:
        mirror.publish(saga, [{"k": "step_succeeded", "s": "a", "v": saga.version}])
    # then each saga's hash and log share a slot and read back, and every master holds some
    assert all(mirror.read(s.id)["version"] == "3" for s in sagas)
    assert mirror.read_log(sagas[0].id) == [{"k": "step_succeeded", "s": "a", "v": 3}]
    assert all(count > 0 for count in cluster.keys_per_node().values())
    # and an older version never overwrites a newer one on the cluster either
    mirror.publish(a_saga(id=sagas[0].id, version=2, status="pending"))
    assert mirror.read(sagas[0].id)["status"] == "running"


def test_timers_fire_once_and_locks_exclude_on_the_cluster(cluster):
    due, later = uuid.uuid4(), uuid.uuid4()
    mirror.timer_set(due, datetime.now(UTC) - timedelta(seconds=1))
    mirror.timer_set(later, datetime.now(UTC) + timedelta(hours=1))
    # every shard is its own slot: the drain pops each with a script of its own (no cross-slot call)
    popped = [i for batch in mirror.timers_due_iter(limit=100, deadline=time.monotonic() + 5) for i in batch]
    assert popped == [str(due)]
    assert mirror.timers_pop_due(mirror.timer_shard(due), 100) == []
    token = mirror.lock_acquire(due, 5)
    assert token and mirror.lock_acquire(due, 5) is None
    mirror.lock_release(due, token)
    assert mirror.lock_acquire(due, 5)


def test_the_cache_reads_keys_of_several_slots(cluster):
    location = {
        "LOCATION": cluster.url,
        "OPTIONS": {"CONNECTION_FACTORY": "sagaops.cluster_cache.ClusterConnectionFactory"},
    }
    with override_settings(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", **location}}):
        cache = caches["default"]
        cache.set_many({f"k{i}": i for i in range(20)})
        cache.add("count", 0)
        cache.incr("count")
        assert cache.get_many([f"k{i}" for i in range(20)]) == {f"k{i}": i for i in range(20)}
        assert cache.get("count") == 1


def test_preflight_checks_the_cluster_in_one_line(cluster):
    with override_settings(REDIS_URL=cluster.url):
        call_command("sagaops_preflight", "--no-create", verbosity=0)
    with override_settings(REDIS_URL="redis+cluster://127.0.0.1:1"), pytest.raises(CommandError) as error:
        call_command("sagaops_preflight", "--no-create", verbosity=0)
    assert str(error.value) == str(error.value).splitlines()[0]
    assert "Redis Cluster is not reachable at redis+cluster://127.0.0.1:1" in str(error.value)


@pytest.mark.django_db(transaction=True)
def test_checkout_end_to_end_on_the_cluster(cluster, stack_on_cluster, ledger):
    # given a worker (with its beat) whose mirror, timers, locks and lease are on the cluster
    stack_on_cluster.worker("cluster")
    # when orders are placed, one its customer cannot pay
    placed = [order_place(customer="ann", items=[{"sku": "MS", "quantity": 1}])[1] for _ in range(3)]
    _, poor = order_place(customer="pat", items=[{"sku": "KB", "quantity": 1}])
    # then they finish, their mirror on the cluster follows, and the beat's lease lives there
    assert {wait_for_status(s.id, timeout=60).status for s in placed} == {"completed"}
    assert wait_for_status(poor.id, timeout=60).status == "compensated"
    assert {mirror.read(s.id)["status"] for s in placed} == {"completed"}
    assert get_redis().exists(LEASE_KEY)
    assert ledger.problems() == []


@pytest.fixture
def stack_on_cluster(cluster, request):
    """Workers with the cluster as their Redis and RabbitMQ as the broker (a Redis broker cannot
    be a cluster), or, without RabbitMQ here, a plain redis-server of the test's own."""
    from tests.conftest import other_workers_paused
    from tests.scale.conftest import PrivateRedis, Stack

    with other_workers_paused():
        private = PrivateRedis().start()
        broker = private.url(0) if rabbitmq_missing() else rabbitmq_test_url()
        stack = Stack("cluster", broker, private, cluster.url)
        try:
            with celery_app_on(broker), override_settings(REDIS_URL=cluster.url):
                yield stack
        finally:
            stack.stop()
            private.kill()
