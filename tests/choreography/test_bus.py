"""The bus under failure: a poison message reaches the dead-letter stream and is replayed; a
malformed one goes there at once; an overdue saga is marked stuck with what it waits for, and
force compensation works for it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from inventory.models import Reservation
from orders.invariants import check_invariants
from orders.services import order_place
from sagaops.choreography import bus
from sagaops.choreography.models import DeadLetter
from sagaops.choreography.selectors import handlings_for, requested_commands, stream_info
from sagaops.choreography.services.deadletters import ReplayRefused, dead_letter_replay
from sagaops.choreography.services.tracker import sagas_mark_overdue
from sagaops.faults import set_redis_spec
from sagaops.redis import get_redis
from sagaops.services.operators import saga_compensate
from tests.choreography.conftest import KB, wait_until
from tests.helpers import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumers", "rules")]


def poisoned_order():
    """An order whose OrderCreated inventory cannot handle (a transient error every time)."""
    set_redis_spec("inventory.reserve=error:1")
    order, saga = order_place(customer="ann", items=KB, mode="choreographed")
    letter = wait_until(lambda: DeadLetter.objects.filter(group="inventory").first(), what="a dead letter")
    return order, saga, letter


def test_a_poison_message_reaches_the_dead_letter_stream_and_replays(ledger):
    order, saga, letter = poisoned_order()
    assert (letter.event_type, letter.deliveries) == ("OrderCreated", 3)
    assert "InjectedFault" in letter.error
    assert stream_info(bus.DEAD)["length"] == 1
    assert stream_info(bus.EVENTS)["groups"]["inventory"]["pending"] == 0  # acknowledged, not lost
    assert wait_for_status(saga.id, "running", timeout=5).status == "running"  # waiting for StockReserved
    set_redis_spec(None)
    dead_letter_replay(dead_letter_id=letter.pk)
    saga = wait_for_status(saga.id, timeout=20)
    assert saga.status == "completed"
    assert stream_info(bus.DEAD)["length"] == 0
    with pytest.raises(ReplayRefused):
        dead_letter_replay(dead_letter_id=letter.pk)
    assert check_invariants(ledger) == []


def test_a_malformed_message_is_dead_lettered_at_once(db):
    get_redis().xadd(bus.stream_key(bus.EVENTS), {"type": "OrderCreated", "payload": "{not json"})
    letters = wait_until(lambda: DeadLetter.objects.count() == 5 and DeadLetter.objects.all(), what="5 dead letters")
    assert {letter.group for letter in letters} == {"inventory", "orders", "payments", "supervisor", "tracker"}
    assert {letter.deliveries for letter in letters} == {1}
    assert all("malformed" in letter.error for letter in letters)


def test_an_overdue_saga_is_stuck_with_what_it_waits_for_and_can_be_force_compensated(ledger):
    order, saga, letter = poisoned_order()
    set_redis_spec(None)
    later = timezone.now() + timedelta(seconds=settings.SAGAOPS_CHOREOGRAPHY_OVERDUE + 1)
    assert sagas_mark_overdue(now=later) == 1
    saga.refresh_from_db()
    assert saga.status == "stuck"
    assert saga.attention_reason.startswith("overdue: waiting for StockReserved from inventory (step reserve_stock)")
    operator = User.objects.create_user("oper")
    saga_compensate(saga_id=saga.id, user=operator, reason="inventory is down for the day")
    saga = wait_for_status(saga.id, ("compensated",), timeout=20)
    handling = handlings_for(saga_id=saga.id).get()
    assert (handling.report.service, handling.report.code) == ("sagaops", "operator_compensate")
    assert requested_commands(handling) == [
        "payments.refund",
        "payments.coupon_release",
        "inventory.release",
        "orders.cancel",
    ]
    order.refresh_from_db()
    assert order.status == "cancelled"
    # A late replay cannot take stock any more: the release left a tombstone.
    dead_letter_replay(dead_letter_id=letter.pk)
    late = wait_until(lambda: handlings_for(saga_id=saga.id).filter(report__code="reservation_released").first())
    assert late.report.service == "inventory"
    assert Reservation.objects.get(reference=f"{saga.id}:reserve_stock").status == "released"
    assert check_invariants(ledger) == []
