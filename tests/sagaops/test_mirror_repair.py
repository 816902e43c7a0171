"""The mirror repairs itself: heal in the reconcile pass, the rebuild command, status reads."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings

from sagaops import mirror
from sagaops.redis import get_redis
from sagaops.selectors import saga_status
from sagaops.services.timers import mirror_rebuild, mirrors_heal, timers_reconcile
from tests.sagaops.factories import saga_row

pytestmark = pytest.mark.django_db


def stale_mirror(saga, *, status="running", version=None, updated_at="2000-01-01T00:00:00+00:00"):
    """The hash as it was before the saga's last write, which was lost: an older state, no TTL."""
    client = get_redis()
    client.hset(
        mirror.saga_key(saga.pk),
        mapping={"status": status, "version": version or saga.version - 1, "updated_at": updated_at},
    )
    client.persist(mirror.saga_key(saga.pk))


@override_settings(SAGAOPS_RECONCILE_SECONDS=30)
def test_heal_rewrites_a_recently_finished_saga_whose_final_write_was_lost():
    # given
    saga = saga_row("completed", age=timedelta(seconds=10))
    stale_mirror(saga)
    # when
    healed = mirrors_heal()
    # then
    cached = mirror.read(saga.pk)
    assert healed == 1
    assert cached["status"] == "completed" and int(cached["version"]) == saga.version
    assert 0 < get_redis().ttl(mirror.saga_key(saga.pk)) <= 86400
    assert [e["k"] for e in mirror.read_log(saga.pk)] == ["saga_started", "x"]


@override_settings(SAGAOPS_RECONCILE_SECONDS=30)
def test_reconcile_rewrites_the_lagging_mirror_of_an_active_saga_falling_due():
    # given: one hash lost, one older than the database, one current, one not due yet
    lost, older, current = (saga_row("running", wake_in=30) for _ in range(3))
    later = saga_row("running", wake_in=3600)
    stale_mirror(older, status="pending")
    stale_mirror(later, status="pending")
    mirror.publish(current)
    get_redis().hset(mirror.saga_key(current.pk), "current_step", "untouched")
    # when
    timers_reconcile()
    # then
    assert mirror.read(lost.pk)["status"] == "running"
    assert mirror.read(older.pk)["status"] == "running"
    assert mirror.read(current.pk)["current_step"] == "untouched"
    assert mirror.read(later.pk)["status"] == "pending"  # healed when it falls due


@override_settings(SAGAOPS_RECONCILE_SECONDS=30)
def test_heal_reads_only_the_recent_window():
    old = saga_row("completed", age=timedelta(hours=2))
    stale_mirror(old)
    assert mirrors_heal() == 0
    assert mirror.read(old.pk)["status"] == "running"


def test_rebuild_without_flags_repairs_stale_finished_sagas_of_any_age():
    # given: an old finished saga left "running" in Redis, a hash of a saga no longer in the database
    old = saga_row("compensated", age=timedelta(days=3))
    stale_mirror(old)
    get_redis().hset(mirror.saga_key("00000000-0000-0000-0000-0000000000aa"), "status", "running")
    active = saga_row("running", wake_in=600)
    # when
    call_command("sagaops_rebuild_mirror", stdout=open("/dev/null", "w"))
    # then
    assert mirror.read(old.pk)["status"] == "compensated"
    assert get_redis().ttl(mirror.saga_key(old.pk)) > 0
    assert mirror.read("00000000-0000-0000-0000-0000000000aa") == {}
    assert mirror.read(active.pk)["status"] == "running"
    assert get_redis().zscore(mirror.saga_timer_key(active.pk), str(active.pk)) == active.wake_at.timestamp()


def test_rebuild_runs_a_fixed_number_of_queries_per_batch(django_assert_max_num_queries):
    sagas = [saga_row("running", wake_in=60) for _ in range(30)]
    with django_assert_max_num_queries(4):
        assert mirror_rebuild(include_finished=True) == 30
    assert all(mirror.read(s.pk)["status"] == "running" for s in sagas)


def test_status_read_trusts_the_database_over_an_older_mirror():
    saga = saga_row("completed", age=timedelta(minutes=5))
    stale_mirror(saga)
    assert saga_status(saga_id=saga.pk)["status"] == "completed"
    assert mirror.read(saga.pk)["status"] == "completed"  # and the mirror is rewritten


def test_status_read_serves_a_fresh_or_final_mirror_as_is():
    saga = saga_row("running", wake_in=30)
    mirror.publish(saga)
    get_redis().hset(mirror.saga_key(saga.pk), "current_step", "from-redis")
    assert saga_status(saga_id=saga.pk)["current_step"] == "from-redis"


def test_rebuild_moves_the_timers_of_an_older_release_into_the_shards():
    # given: the single ZSET of a release before the shards
    saga = saga_row("running", wake_in=600)
    get_redis().zadd(mirror.LEGACY_TIMERS_KEY, {str(saga.pk): 1})
    # when
    call_command("sagaops_rebuild_mirror", stdout=open("/dev/null", "w"))
    # then
    assert not get_redis().exists(mirror.LEGACY_TIMERS_KEY)
    assert get_redis().zscore(mirror.saga_timer_key(saga.pk), str(saga.pk)) == saga.wake_at.timestamp()
