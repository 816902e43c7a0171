"""Checkouts across three worker hosts (network namespaces) on RabbitMQ: one host's link is cut
mid-run and another host's worker is killed, then both come back. Every saga finishes, each
charge happens once, and money and stock add up."""

import time

import pytest

from orders.services import order_place
from payments.models import Payment
from sagaops.faults import set_redis_spec
from tests.conftest import OUTPUT, worker_env
from tests.helpers import wait_for_status
from tests.reliability.conftest import wait_for_step
from tests.scale.hosts import host_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.scale]

ITEMS = [[{"sku": "KB", "quantity": 1}], [{"sku": "MS", "quantity": 1}]]


def start_on(host, stack, tag: str):
    env = host_env(host, worker_env(**stack.env, SAGAOPS_CHECKOUT_STEP_TIMEOUT="4"))
    process = host.worker(f"host{host.number}-{tag}", log_dir=OUTPUT, env=env).start()
    stack.started.append(process)
    return process


def advances_done(process) -> int:
    return process.log.read_text(errors="replace").count("Task sagaops.tasks.advance[")


@pytest.mark.parametrize("stack", ["rabbitmq"], indirect=True)
def test_checkouts_across_hosts_survive_a_cut_link_and_a_killed_worker(stack, hosts, ledger):
    # given a worker (with its beat: any of them may lead) on each of three hosts
    workers = [start_on(host, stack, "a") for host in hosts]
    set_redis_spec("inventory.reserve.reply=delay:0.3,payments.charge.reply=delay:0.3")
    placed = [order_place(customer="ann", items=ITEMS[i % 2])[1] for i in range(10)]
    wait_for_step(placed[0].id, "reserve_stock", ["running", "succeeded"])
    # when host 1 loses its link and host 2's worker is killed, mid-run
    hosts[0].cut()
    workers[1].kill()
    time.sleep(6)  # past the step leases (4 s) and the beat lease (2 s)
    hosts[0].restore()
    workers[1] = start_on(hosts[1], stack, "b")
    # then every saga completes, each charged once, and the invariants hold
    assert {wait_for_status(s.id, timeout=120).status for s in placed} == {"completed"}
    for saga in placed:
        assert Payment.objects.filter(reference=f"{saga.id}:charge_payment", status="charged").count() == 1
    assert ledger.problems() == []
    # and the work really ran on more than one host
    assert sum(1 for w in stack.started if advances_done(w) > 0) >= 2
