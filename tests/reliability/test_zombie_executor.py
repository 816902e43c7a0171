"""A stale executor that finishes a step after its lease expired and another took over is fenced off."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sagaops import mirror
from sagaops.models import SagaStep
from sagaops.redis import get_redis
from sagaops.services import saga_advance, saga_start
from tests.reliability.conftest import wait_for_step
from tests.sagas import calls

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_zombies_late_checkpoint_is_refused():
    saga, _ = saga_start(saga_type="test.blocking", payload={})

    # given executor A stuck inside the remote step "slow" (attempt 1 blocks)
    def zombie():
        saga_advance(saga_id=saga.id)
        connection.close()

    a = threading.Thread(target=zombie)
    a.start()
    wait_for_step(saga.id, "slow", ["running"])
    # when its lease expires and executor B takes over and finishes the saga
    SagaStep.objects.filter(saga=saga, name="slow").update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    get_redis().delete(mirror.lock_key(saga.id))
    saga_advance(saga_id=saga.id)  # B: the lease ran out -> retry scheduled
    time.sleep(0.3)
    saga_advance(saga_id=saga.id)  # B: attempt 2 runs and the saga completes
    saga.refresh_from_db()
    assert saga.status == "completed"
    version = saga.version
    # and A finally returns from its call
    get_redis().rpush(f"test:release:{saga.id}", "go")
    a.join(timeout=20)
    # then A's checkpoint was refused by the fence: nothing changed after B finished
    saga.refresh_from_db()
    slow = saga.steps.get(name="slow")
    assert saga.version == version
    assert slow.result == {"attempt": 2}
    assert saga.events.filter(kind="step_succeeded", step="slow").count() == 1
    assert calls(saga.id).count("fail:slow:1") == 1  # A did run, and its result was dropped
