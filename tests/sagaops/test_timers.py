"""Sharded timers, the draining tick, the reconcile pass by index range, and the SagaWake triggers."""

import time

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from project.celery import app
from sagaops import mirror
from sagaops.models import Saga, SagaWake
from sagaops.publishing import pipelined_publish
from sagaops.redis import get_redis
from sagaops.services.timers import timers_drain, timers_reconcile
from tests.sagaops.factories import saga_row

pytestmark = pytest.mark.django_db


def arm_due(count: int, *, prefix: str = "s") -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(count)]
    mirror.timers_set_many(dict.fromkeys(ids, time.time() - 1))
    return ids


def test_a_saga_always_maps_to_the_same_hash_tagged_shard():
    # given
    shards = {mirror.timer_shard(f"saga-{i}") for i in range(1000)}
    # then: every shard is used, and a key is one Cluster slot per shard
    assert shards == set(range(settings.SAGAOPS_TIMER_SHARDS))
    assert mirror.timer_shard("abc") == mirror.timer_shard("abc")
    assert mirror.timer_key(3) == "sagaops:timers:{3}"


def test_timer_set_writes_the_sagas_own_shard():
    mirror.timer_set("abc", mirror.datetime.fromtimestamp(100))
    assert get_redis().zscore(mirror.saga_timer_key("abc"), "abc") == 100
    assert sum(get_redis().zcard(k) for k in mirror.timer_keys()) == 1


def test_a_tick_drains_every_due_timer_of_every_shard_past_one_batch():
    # given: 2,300 due timers (more than four batches of 500) and 10 not yet due
    due = arm_due(2300)
    mirror.timers_set_many({f"later-{i}": time.time() + 600 for i in range(10)})
    batches: list[list[str]] = []
    # when
    drained = timers_drain(enqueue=batches.append, budget=30, batch=500)
    # then
    assert drained == 2300
    assert sorted(i for b in batches for i in b) == sorted(due)
    assert max(len(b) for b in batches) <= 500
    assert mirror.timer_backlog()[0] == 10


def test_a_tick_stops_at_its_time_budget():
    arm_due(100)
    assert timers_drain(enqueue=lambda ids: None, budget=0, batch=10) == 0
    assert mirror.timer_backlog()[0] == 100


def test_a_failed_enqueue_puts_its_timers_back():
    arm_due(30)

    def broker_down(ids):
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        timers_drain(enqueue=broker_down, budget=5, batch=10)
    armed, overdue = mirror.timer_backlog()
    assert armed == 30 and overdue is not None


def test_the_tick_and_reconcile_have_their_own_queue():
    route = app.amqp.router.route({}, "sagaops.tasks.tick")
    assert route["queue"].name == "sagaops.timers"
    assert app.amqp.router.route({}, "sagaops.tasks.advance")["queue"].name == "celery"
    assert {q.name for q in app.amqp.queues.values()} >= {"celery", "sagaops.timers"}


def test_saga_wake_follows_the_saga_row():
    # given: an active saga with a wake time
    saga = saga_row("running", wake_in=60)
    assert SagaWake.objects.get(saga_id=saga.pk).wake_at == saga.wake_at
    # when its wake time moves
    later = saga.wake_at.replace(microsecond=0)
    Saga.objects.filter(pk=saga.pk).update(wake_at=later)
    assert SagaWake.objects.get(saga_id=saga.pk).wake_at == later
    # when it becomes stuck, then finished: no row
    Saga.objects.filter(pk=saga.pk).update(status="stuck")
    assert not SagaWake.objects.filter(saga_id=saga.pk).exists()
    Saga.objects.filter(pk=saga.pk).update(status="running")
    assert SagaWake.objects.filter(saga_id=saga.pk).exists()
    Saga.objects.filter(pk=saga.pk).update(status="completed", wake_at=None)
    assert not SagaWake.objects.filter(saga_id=saga.pk).exists()


def test_a_deleted_active_saga_leaves_no_wake_row():
    saga = saga_row("pending", wake_in=5)
    Saga.objects.filter(pk=saga.pk).delete()
    assert not SagaWake.objects.exists()


@override_settings(SAGAOPS_RECONCILE_SECONDS=30)
def test_reconcile_rearms_only_what_falls_due_within_two_periods():
    # given: Redis lost every timer
    soon, overdue = saga_row("running", wake_in=20), saga_row("running", wake_in=-5)
    later = saga_row("running", wake_in=3600)
    saga_row("completed")
    # when
    armed = timers_reconcile()
    # then
    client = get_redis()
    assert armed == 2
    assert client.zscore(mirror.saga_timer_key(soon.pk), str(soon.pk)) == soon.wake_at.timestamp()
    assert client.zscore(mirror.saga_timer_key(overdue.pk), str(overdue.pk)) is not None
    assert client.zscore(mirror.saga_timer_key(later.pk), str(later.pk)) is None


def test_reconcile_never_moves_an_armed_timer_later():
    saga = saga_row("running", wake_in=20)
    mirror.timer_set(saga.pk, mirror.datetime.fromtimestamp(time.time() + 1))
    timers_reconcile()
    assert get_redis().zscore(mirror.saga_timer_key(saga.pk), str(saga.pk)) < saga.wake_at.timestamp()


def test_timer_backlog_counts_all_shards():
    arm_due(40)
    armed, overdue = mirror.timer_backlog()
    assert armed == 40 and overdue >= 0.9
    get_redis().delete(*mirror.timer_keys())
    assert mirror.timer_backlog() == (0, None)


def test_a_tick_that_finds_a_backlog_calls_in_one_helper():
    arm_due(50)
    helpers = []
    timers_drain(enqueue=lambda ids: None, on_backlog=lambda: helpers.append(1), budget=5, batch=2)
    assert helpers == [1]
    arm_due(5)
    timers_drain(enqueue=lambda ids: None, on_backlog=lambda: helpers.append(1), budget=5, batch=10)
    assert helpers == [1]  # a partial batch is no backlog


def test_a_batch_of_tasks_goes_to_the_redis_broker_in_one_pipeline():
    queue = "sagaops.test-pipeline"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(queue)
    with app.producer_or_acquire() as producer:
        with pipelined_publish(producer):
            for i in range(25):
                app.send_task("sagaops.test.nothing", (i,), queue=queue, producer=producer)
            assert broker.llen(queue) == 0  # nothing sent yet: queued in the pipeline
        assert broker.llen(queue) == 25
        app.send_task("sagaops.test.nothing", (25,), queue=queue, producer=producer)
    assert broker.llen(queue) == 26  # outside the block, publishing is back to one by one
    broker.delete(queue)
