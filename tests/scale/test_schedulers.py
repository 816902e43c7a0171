"""No single beat: two schedulers run, one holds the leader lease and sends the ticks; when it is
killed the other takes over within a few seconds and timers keep firing."""

import time

import pytest

from bench.processes import CeleryProcess
from orders.services import order_place
from sagaops.faults import set_redis_spec
from tests.conftest import OUTPUT, worker_env
from tests.helpers import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.scale]

LEASE = 2  # seconds
SENDS_TICK = "Sending due task sagaops-tick"


def beat(stack, name: str) -> CeleryProcess:
    env = worker_env(**stack.env, SAGAOPS_BEAT_LEASE_SECONDS=str(LEASE))
    process = CeleryProcess(f"{stack.broker}-{name}", log_dir=OUTPUT, env=env, role="beat").start()
    stack.started.append(process)
    return process


def sent_ticks(process: CeleryProcess) -> int:
    return process.log.read_text(errors="replace").count(SENDS_TICK)


def wait_for(check, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    return None


@pytest.mark.parametrize("stack", ["redis"], indirect=True)
def test_a_standby_beat_takes_over_when_the_leader_dies(stack, ledger):
    # given a worker without a beat of its own and two beats
    stack.worker("no-beat", beat=False)
    first, second = beat(stack, "beat-a"), beat(stack, "beat-b")
    leader = wait_for(lambda: next((b for b in (first, second) if sent_ticks(b) >= 2), None), timeout=30)
    assert leader is not None, "no beat sent ticks"
    standby = second if leader is first else first
    # then only the leader sends ticks
    assert sent_ticks(standby) == 0
    # when the leader is killed outright (its lease is left to expire)
    leader.kill()
    killed_at = time.monotonic()
    # then the standby sends ticks within the lease and a little
    assert wait_for(lambda: sent_ticks(standby) >= 1, timeout=LEASE + 8), "the standby never took over"
    took_over = time.monotonic() - killed_at
    assert took_over < LEASE + 8
    # and timers fire: a step that fails once is retried after its backoff, by a timer
    set_redis_spec("payments.charge=first:1")
    _, saga = order_place(customer="ann", items=[{"sku": "KB", "quantity": 1}])
    saga = wait_for_status(saga.id, timeout=30)
    assert saga.status == "completed"
    assert saga.steps.get(name="charge_payment").attempts == 2
    assert ledger.problems() == []
