"""Outage mode through a real Celery worker: a payment outage under a hold, its release at a rate,
and the circuit breaker tripping on a burst of transient failures."""

import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from inventory.models import Product
from orders.services import order_place
from payments.models import Account, Payment
from sagaops.faults import set_redis_spec
from sagaops.models import Hold, Saga, SagaEvent, SagaStep
from sagaops.observability.models import AlertRule, AlertSent
from sagaops.services.holds import hold_place, hold_release
from tests.helpers import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker", "catalog")]

MS = [{"sku": "MS", "quantity": 1}]  # 29.50 each
CHARGE = {"saga_type": "order.checkout", "step": "charge_payment"}


@pytest.fixture
def operator(db):
    return User.objects.create_user("ops", password="x", is_staff=True)


def wait_until(predicate, timeout=40.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached after {timeout}s")


def held(saga_ids) -> int:
    return SagaStep.objects.filter(saga_id__in=saga_ids, name="charge_payment", status="held").count()


def place(n: int) -> list:
    return [order_place(customer="ann", items=MS)[1].id for _ in range(n)]


def test_a_payment_outage_under_a_hold_compensates_nothing_and_a_release_completes_all(operator):
    # given: payments are down, and the operator holds the charge step
    set_redis_spec("payments.charge=error:1.0")
    hold = hold_place(user=operator, reason="payment provider outage", **CHARGE)
    # when: orders come in
    saga_ids = place(6)
    wait_until(lambda: held(saga_ids) == 6, what="six held sagas")
    # then: they wait, held, with no charge attempted and nothing compensated
    time.sleep(1)
    sagas = Saga.objects.filter(pk__in=saga_ids)
    assert set(sagas.values_list("status", flat=True)) == {"running"}
    assert all(s.attention_reason == f"held by hold #{hold.pk}: payment provider outage" for s in sagas)
    assert set(
        SagaStep.objects.filter(saga_id__in=saga_ids, name="charge_payment").values_list("attempts", flat=True)
    ) == {0}
    assert Product.objects.get(sku="MS").stock == 4  # reserved, not released
    assert not Payment.objects.exists()
    # when: the provider is back and the operator releases at 2 sagas a second
    set_redis_spec(None)
    hold_release(hold_id=hold.pk, user=operator, reason="provider is back", rate=2)
    # then: all complete, let go at the rate, each charged once, and the money adds up
    for saga_id in saga_ids:
        assert wait_for_status(saga_id, timeout=60).status == "completed"
    released = SagaEvent.objects.filter(saga_id__in=saga_ids, kind="step_released").order_by("at")
    assert released.count() == 6
    assert (released.last().at - released.first().at).total_seconds() >= 1.5  # 3 ticks of 2, a second apart
    assert set(released.values_list("actor", "reason")) == {("ops", "provider is back")}
    assert set(
        SagaStep.objects.filter(saga_id__in=saga_ids, name="charge_payment").values_list("attempts", flat=True)
    ) == {1}
    assert Account.objects.get(customer="ann").balance == Decimal("1000.00") - 6 * Decimal("29.50")
    assert Product.objects.get(sku="MS").stock == 4
    assert Payment.objects.filter(status="charged").count() == 6
    wait_until(lambda: Hold.objects.get(pk=hold.pk).status == "released", what="the hold released")
    assert Hold.objects.get(pk=hold.pk).released_count == 6


def test_the_circuit_breaker_holds_the_step_on_a_failure_burst_and_alerts(operator):
    # given: an alert rule for tripped breakers, and a payment provider failing every call
    AlertRule.objects.create(name="breakers", kind="breaker_tripped", email_recipients="ops@example.com")
    set_redis_spec("payments.charge=error:1.0")
    # when: orders keep coming (3 attempts each: 10 failures trip the default breaker)
    saga_ids = place(8)
    wait_until(lambda: Hold.objects.filter(source="breaker").exists(), what="the breaker tripped")
    wait_until(
        lambda: Saga.objects.filter(pk__in=saga_ids, status="compensated").count() + held(saga_ids) == 8,
        what="every saga compensated or held",
    )
    # then: the step is held, the later sagas wait instead of burning retries, and an alert went out
    hold = Hold.objects.get(source="breaker")
    assert (hold.saga_type, hold.step, hold.status) == ("order.checkout", "charge_payment", "active")
    assert hold.reason.startswith("circuit breaker: ")
    assert held(saga_ids) >= 1
    attempts = sum(
        SagaStep.objects.filter(saga_id__in=saga_ids, name="charge_payment").values_list("attempts", flat=True)
    )
    assert attempts < 8 * 3
    wait_until(lambda: AlertSent.objects.filter(kind="breaker_tripped").exists(), what="the breaker alert")
    # when: the provider is back and the operator releases the hold
    set_redis_spec(None)
    held_ids = list(SagaStep.objects.filter(saga_id__in=saga_ids, status="held").values_list("saga_id", flat=True))
    hold_release(hold_id=hold.pk, user=operator, reason="provider is back", rate=50)
    # then: the held sagas complete and the money adds up
    for saga_id in held_ids:
        assert wait_for_status(saga_id, timeout=60).status == "completed"
    for saga_id in saga_ids:
        wait_for_status(saga_id, timeout=60)
    completed = Saga.objects.filter(pk__in=saga_ids, status="completed").count()
    assert completed == len(held_ids)
    assert Account.objects.get(customer="ann").balance == Decimal("1000.00") - completed * Decimal("29.50")
    assert Product.objects.get(sku="MS").stock == 10 - completed
