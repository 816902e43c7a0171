"""Operator repairs through the services, with a real worker carrying the saga on."""

import threading

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.db import connection

from sagaops.exceptions import ActionRefused, ConcurrentUpdate
from sagaops.services import (
    compensation_mark_done,
    saga_compensate,
    saga_resolve,
    saga_retry,
    saga_retry_compensation,
    saga_start,
    step_skip,
)
from tests.helpers import event_kinds, step_statuses, wait_for_status
from tests.sagas import fix

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


@pytest.fixture
def operator():
    return User.objects.create_user("oper", password="x", is_staff=True)


def stuck_saga(payload):
    saga, _ = saga_start(saga_type="test.flow", payload=payload)
    saga = wait_for_status(saga.id)
    assert saga.status == "stuck"
    return saga


def test_retry_forward_with_an_edited_payload_completes(operator):
    saga = stuck_saga({"fail": {"e": "always"}})
    saga_retry(saga_id=saga.id, user=operator, reason="fixed the mail server", payload={"note": "fixed"})
    saga = wait_for_status(saga.id)
    assert saga.status == "completed"
    event = saga.events.get(kind="operator_retry")
    assert (event.actor, event.reason, event.actor_type) == ("oper", "fixed the mail server", "operator")
    assert event.detail["payload_diff"]["fail"] == {"before": {"e": "always"}}
    assert LogEntry.objects.filter(object_id=str(saga.id), user=operator).exists()


def test_force_compensation_of_a_saga_stuck_before_its_pivot(operator):
    saga = stuck_saga({"fail": {"c": "business"}, "comp": {"b": "always"}})
    compensation_mark_done(saga_id=saga.id, step_name="b", user=operator, reason="undone by hand")
    saga = wait_for_status(saga.id, ("compensated",))
    assert step_statuses(saga)["a"] == "compensated"


def test_retry_compensation_after_it_failed(operator):
    saga = stuck_saga({"fail": {"c": "business"}, "comp": {"b": "always"}})
    assert step_statuses(saga)["b"] == "compensation_failed"
    fix(saga.id)
    saga_retry_compensation(saga_id=saga.id, user=operator, reason="payments is back")
    saga = wait_for_status(saga.id, ("compensated",))
    assert step_statuses(saga)["b"] == "compensated"


def test_mark_a_compensation_done_by_hand(operator):
    saga = stuck_saga({"fail": {"c": "business"}, "comp": {"b": "always"}})
    compensation_mark_done(saga_id=saga.id, step_name="b", user=operator, reason="refunded by hand")
    saga = wait_for_status(saga.id, ("compensated",))
    assert step_statuses(saga)["a"] == "compensated"
    assert "operator_compensation_done" in event_kinds(saga)


def test_skip_a_failed_step(operator):
    saga = stuck_saga({"fail": {"e": "always"}})
    step_skip(saga_id=saga.id, step_name="e", user=operator, reason="customer was called instead")
    saga = wait_for_status(saga.id, ("completed",))
    assert step_statuses(saga)["e"] == "skipped"


def test_resolve_by_hand(operator):
    saga = stuck_saga({"fail": {"e": "always"}})
    saga = saga_resolve(saga_id=saga.id, user=operator, reason="settled with the customer")
    saga.refresh_from_db()
    assert saga.status == "resolved" and saga.finished_at is not None


def test_a_reason_is_required(operator):
    saga = stuck_saga({"fail": {"e": "always"}})
    with pytest.raises(ActionRefused, match="a reason is required"):
        saga_resolve(saga_id=saga.id, user=operator, reason="  ")


def test_refused_where_the_state_forbids_it(operator):
    saga, _ = saga_start(saga_type="test.flow", payload={})
    saga = wait_for_status(saga.id)
    with pytest.raises(ActionRefused, match="cannot resolve a completed saga"):
        saga_resolve(saga_id=saga.id, user=operator, reason="x")
    with pytest.raises(ActionRefused, match="cannot retry forward a completed saga"):
        saga_retry(saga_id=saga.id, user=operator, reason="x")


def test_a_stale_form_is_refused(operator):
    saga = stuck_saga({"fail": {"e": "always"}})
    seen = saga.version
    saga_resolve(saga_id=saga.id, user=operator, reason="first click", expected_version=seen)
    with pytest.raises(ConcurrentUpdate, match="the saga changed since you looked"):
        saga_resolve(saga_id=saga.id, user=operator, reason="second click", expected_version=seen)


def test_two_operators_at_once_one_wins(operator):
    saga = stuck_saga({"fail": {"e": "always"}})
    other = User.objects.create_user("other", password="x", is_staff=True)
    barrier = threading.Barrier(2)
    outcomes = []

    def act(user, action):
        barrier.wait()
        try:
            action(saga_id=saga.id, user=user, reason="at once")
            outcomes.append("done")
        except ActionRefused as error:  # ConcurrentUpdate included
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(operator, saga_retry)),
        threading.Thread(target=act, args=(other, saga_resolve)),
    ]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert outcomes.count("done") == 1
    assert saga.events.filter(actor_type="operator").count() == 1


def test_force_compensation_is_refused_past_the_pivot(operator):
    saga = stuck_saga({"fail": {"e": "always"}})
    with pytest.raises(ActionRefused, match=r"past its pivot \(d\)"):
        saga_compensate(saga_id=saga.id, user=operator, reason="undo it all")
