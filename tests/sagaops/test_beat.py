"""The beat's leader lease against the real test Redis: one leader, a clean hand-over, and a
leader that loses Redis steps down instead of failing."""

import pytest
from django.test import override_settings

from project.celery import app
from sagaops.beat import LeaderLeaseScheduler
from sagaops.redis import get_redis

# The beats of these tests lease a key of their own: the suite's workers run embedded beats that
# hold (and keep taking) the deployment's lease in the same Redis database.
LEASE_KEY = "test:beat:leader"


class IsolatedLeaseScheduler(LeaderLeaseScheduler):
    lease_key = LEASE_KEY


@pytest.fixture
def beats(tmp_path):
    made = []

    def make(name):
        # Ticks close together: nothing of the schedule falls due, so nothing is sent.
        scheduler = IsolatedLeaseScheduler(app=app, schedule_filename=str(tmp_path / name))
        made.append(scheduler)
        return scheduler

    with override_settings(SAGAOPS_BEAT_LEASE_SECONDS=2):
        yield make
    for scheduler in made:
        scheduler.close()


def test_only_one_beat_holds_the_lease(beats):
    first, second = beats("a"), beats("b")
    first.tick()
    assert second.tick() == second.poll_seconds
    assert (first.leading, second.leading) == (True, False)
    assert 0 < get_redis().pttl(LEASE_KEY) <= 2000


def test_a_beat_that_stops_hands_the_lease_over_at_once(beats):
    first, second = beats("a"), beats("b")
    first.tick()
    first.close()
    second.tick()
    assert second.leading


def test_a_flushed_lease_is_taken_again(beats):
    first = beats("a")
    first.tick()
    get_redis().flushdb()
    first.tick()
    assert first.leading and get_redis().exists(LEASE_KEY)


def test_a_leader_that_cannot_reach_redis_steps_down(beats):
    first = beats("a")
    first.tick()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        first._lease.redis = get_redis()  # the lease's connection now goes nowhere
        assert first.tick() == first.poll_seconds
    assert not first.leading
