"""Workers killed or stopped mid-step, and tasks delivered more than once: nothing lost, nothing twice."""

import subprocess
import sys

import pytest

from orders.services import order_place
from payments.models import Payment
from sagaops.faults import set_redis_spec
from tests.helpers import wait_for_status
from tests.reliability.conftest import wait_for_step

pytestmark = pytest.mark.django_db(transaction=True)

KB = [{"sku": "KB", "quantity": 1}]


def charges(saga):
    return Payment.objects.filter(reference=f"{saga.id}:charge_payment", status="charged").count()


def test_sigkill_mid_step_then_a_new_worker_finishes_it_charging_once(workers, ledger):
    # given a worker inside the charge step, after payments charged but before the reply came back
    set_redis_spec("payments.charge.reply=delay:3")
    first = workers("doomed")
    order, saga = order_place(customer="ann", items=KB)
    wait_for_step(saga.id, "charge_payment", ["running"])
    # when it is killed outright, and a new worker starts
    first.kill()
    set_redis_spec(None)
    workers("rescuer")
    # then the lease expires, the step is retried with the same reference, and nothing is charged twice
    saga = wait_for_status(saga.id, timeout=60)
    assert saga.status == "completed"
    assert charges(saga) == 1
    assert ledger.problems() == []


def test_sigterm_mid_step_finishes_the_step_first(workers, ledger):
    set_redis_spec("payments.charge.reply=delay:2")
    worker = workers("stopping")
    order, saga = order_place(customer="ann", items=KB)
    wait_for_step(saga.id, "charge_payment", ["running"])
    worker.stop_warm()  # warm shutdown: the running task completes
    saga.refresh_from_db()
    assert saga.status == "completed"
    assert charges(saga) == 1
    assert ledger.problems() == []


def test_redelivery_after_the_visibility_timeout_has_one_effect(workers, ledger):
    # given an advance that is still running, unacknowledged, when its visibility timeout passes
    set_redis_spec("payments.charge.reply=delay:3")
    workers("redelivery")
    order, saga = order_place(customer="ann", items=KB)
    wait_for_step(saga.id, "charge_payment", ["running"])
    # when the broker restores it (as kombu's Redis transport does) and the other process takes it
    assert redeliver_unacknowledged() >= 1
    # then one of the two deliveries does the work; the other finds the saga taken
    saga = wait_for_status(saga.id, timeout=60)
    assert saga.status == "completed"
    assert charges(saga) == 1
    assert saga.events.filter(kind="step_succeeded", step="charge_payment").count() == 1
    assert ledger.problems() == []


def redeliver_unacknowledged() -> int:
    """Put every unacknowledged message back on its queue, as an expired visibility timeout does."""
    from project.celery import app

    with app.connection_for_write(transport_options={"visibility_timeout": 0}) as conn:
        qos = conn.default_channel.qos
        pending = conn.default_channel.client.zcard(qos.unacked_index_key)
        qos.restore_visible(num=100)
    return pending


def test_the_same_advance_delivered_many_times_at_once(workers, ledger):
    workers("duplicates")
    set_redis_spec("inventory.reserve=delay:0.5")
    order, saga = order_place(customer="ann", items=KB)
    from sagaops.tasks import advance

    for _ in range(5):
        advance.delay(str(saga.id))
    saga = wait_for_status(saga.id)
    assert saga.status == "completed"
    assert charges(saga) == 1
    assert saga.events.filter(kind="step_succeeded").count() == 5
    assert ledger.problems() == []


def test_a_poison_step_is_bounded_and_sticks_with_its_error(workers, ledger):
    workers("poison")
    set_redis_spec("orders.notify=error:1")
    order, saga = order_place(customer="ann", items=KB)
    saga = wait_for_status(saga.id, timeout=60)
    assert saga.status == "stuck"
    assert "injected fault at orders.notify" in saga.attention_reason
    notify = saga.steps.get(name="notify_customer")
    events = saga.events.count()
    # no hot loop: the attempts are bounded and nothing more happens once stuck
    assert notify.attempts == 5
    subprocess.run([sys.executable, "-c", "import time; time.sleep(1.5)"], check=True)
    assert saga.events.count() == events
    assert ledger.problems(require_settled=True) == []
