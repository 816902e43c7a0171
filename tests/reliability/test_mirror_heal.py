"""A lost final mirror write heals within one reconcile pass (a real worker runs the saga)."""

import pytest

from sagaops import mirror, tasks
from sagaops.redis import get_redis
from sagaops.selectors import saga_status
from sagaops.services import saga_start
from tests.helpers import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


def lose_the_final_write(saga) -> None:
    """Put the hash back where it was before the completion was mirrored: running, no TTL."""
    client = get_redis()
    client.hset(
        mirror.saga_key(saga.pk),
        mapping={"status": "running", "version": saga.version - 1, "updated_at": "2000-01-01T00:00:00+00:00"},
    )
    client.persist(mirror.saga_key(saga.pk))


def test_a_completed_saga_whose_final_mirror_write_was_lost_heals_in_one_reconcile():
    # given: a saga completed by the worker, its final mirror write lost
    saga, _ = saga_start(saga_type="test.flow", payload={})
    saga = wait_for_status(saga.id)
    assert saga.status == "completed"
    lose_the_final_write(saga)
    assert get_redis().ttl(mirror.saga_key(saga.pk)) == -1
    # when: one reconcile pass
    tasks.reconcile()
    # then
    cached = mirror.read(saga.pk)
    assert cached["status"] == "completed" and int(cached["version"]) == saga.version
    assert get_redis().ttl(mirror.saga_key(saga.pk)) > 0


def test_a_status_read_before_the_heal_trusts_the_database():
    saga, _ = saga_start(saga_type="test.flow", payload={})
    saga = wait_for_status(saga.id)
    get_redis().delete(mirror.saga_key(saga.pk))
    mirror.publish(saga)  # re-creates the hash at the final version ...
    lose_the_final_write(saga)  # ... then back to the older state
    assert saga_status(saga_id=saga.pk)["status"] == "completed"
