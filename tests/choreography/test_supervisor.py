"""The supervisor: each demo rule requests exactly its compensations; no rule, a compensation
that cannot be done, and a rule edited while reports arrive."""

import pytest
from django.contrib.auth.models import User

from inventory.services import reservation_reserve
from orders.invariants import Ledger, check_invariants
from orders.models import Order
from orders.services import order_confirm
from payments.models import Coupon
from payments.services import payment_charge
from sagaops.api.services import failure_report_create
from sagaops.choreography.bus import report_failure
from sagaops.choreography.models import CompensationRule, ReportHandling
from sagaops.choreography.selectors import requested_commands
from sagaops.choreography.services.rules import DEMO_RULES, rule_preview, rule_set
from sagaops.models import FailureReport
from tests.choreography.conftest import KB, pending_order, wait_until
from tests.helpers import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumers", "rules", "catalog")]

# The effects each report implies had happened before the failure.
EFFECTS = {
    ("inventory", "out_of_stock"): [],
    ("inventory", "reservation_released"): [],
    ("payments", "insufficient_funds"): ["reserve"],
    ("payments", "coupon_already_used"): ["reserve"],
    ("orders", "confirm_refused"): ["reserve", "charge"],
    ("sagaops", "operator_compensate"): ["reserve", "charge"],
    ("orders", "notify_failed"): ["reserve", "charge", "confirm"],
}


def apply_effects(order, saga, effects: list[str]) -> None:
    if "reserve" in effects:
        reservation_reserve(reference=f"{saga.id}:reserve_stock", items=KB)
    if "charge" in effects:
        payment_charge(reference=f"{saga.id}:charge_payment", customer="ann", amount=order.total, coupon_code="TEN")
    if "confirm" in effects:
        order_confirm(order_id=order.pk)


def report(order, saga, service: str, code: str, *, via: str = "stream", step: str = "") -> None:
    detail = {"saga_id": str(saga.id), "order_id": order.pk, "step": step}
    if via == "stream":
        report_failure(service=service, code=code, correlation_id=saga.correlation_id, detail=detail)
    else:  # what POST /api/reports/ stores
        failure_report_create(service=service, code=code, correlation_id=saga.correlation_id, detail=detail, user=None)


def settled(report_filter: dict, timeout: float = 20) -> ReportHandling:
    def done():
        found = ReportHandling.objects.filter(**{f"report__{k}": v for k, v in report_filter.items()}).first()
        return found if found and found.status in ("done", "stuck") else None

    return wait_until(done, timeout, what=f"handling of {report_filter}")


@pytest.mark.parametrize("service, code, action, commands", [r[:4] for r in DEMO_RULES], ids=lambda v: str(v))
def test_each_demo_rule_requests_exactly_its_compensations(service, code, action, commands):
    before = Ledger.take()
    order, saga = pending_order(coupon="TEN")
    apply_effects(order, saga, EFFECTS[(service, code)])
    via = "api" if len(code) % 2 else "stream"  # both ways in, spread over the rules
    report(order, saga, service, code, via=via, step="notify_customer" if action == "retry_step" else "")
    handling = settled({"service": service, "code": code})
    assert (handling.status, handling.rule_version.version) == ("done", 1)
    order.refresh_from_db()
    if action == "retry_step":
        assert requested_commands(handling) == ["orders.notify_customer"]
        assert order.notified_at is not None
        wait_until(lambda: saga.steps.get(name="notify_customer").status == "succeeded", what="notify tracked")
        return
    assert requested_commands(handling) == commands
    assert [r.status for r in handling.requests.order_by("position")] == ["done"] * len(commands)
    assert order.status == "cancelled"
    assert Coupon.objects.get(code="TEN").used_by_reference is None
    assert wait_for_status(saga.id, timeout=10).status == "compensated"
    assert check_invariants(before) == []


def test_a_report_with_no_rule_is_stuck():
    order, saga = pending_order()
    report(order, saga, "payments", "card_melted")
    handling = settled({"code": "card_melted"})
    assert (handling.status, handling.reason) == ("stuck", "no rule for (payments, card_melted)")
    assert handling.requests.count() == 0
    saga = wait_for_status(saga.id, "stuck", timeout=10)
    assert saga.attention_reason == "no rule for (payments, card_melted)"


def test_a_compensation_that_cannot_be_done_is_retried_then_stuck():
    order, saga = pending_order()
    apply_effects(order, saga, ["reserve", "charge", "confirm"])
    report(order, saga, "payments", "insufficient_funds")  # wrong: the order is already confirmed
    handling = settled({"code": "insufficient_funds"})
    cancel = handling.requests.get(command="orders.cancel")
    assert (handling.status, cancel.status, cancel.attempts) == ("stuck", "failed", 2)
    assert "compensation orders.cancel could not be done" in handling.reason
    saga = wait_for_status(saga.id, "stuck", timeout=10)
    assert "orders.cancel" in saga.attention_reason
    assert Order.objects.get(pk=order.pk).status == "confirmed"


def test_the_next_report_follows_an_edited_rule():
    rule_set(service="payments", code="gateway_down", action="compensate", commands=["orders.cancel"])
    sagas = [pending_order() for _ in range(6)]
    report(*sagas[0], "payments", "gateway_down")
    first = settled({"correlation_id": sagas[0][1].correlation_id})
    for order, saga in sagas[1:3]:  # arrive while the rule is edited
        report(order, saga, "payments", "gateway_down")
    operator = User.objects.create_user("rules-editor")
    v2 = rule_set(
        service="payments", code="gateway_down", action="compensate", commands=["inventory.release", "orders.cancel"],
        user=operator,
    )  # fmt: skip
    for order, saga in sagas[3:]:
        report(order, saga, "payments", "gateway_down")
    handlings = [settled({"correlation_id": saga.correlation_id}) for _, saga in sagas]
    versions = [h.rule_version.version for h in handlings]
    assert (first.rule_version.version, v2.version, v2.created_by) == (1, 2, operator)
    assert versions[3:] == [2, 2, 2]
    assert versions == sorted(versions)  # reports are handled in order; none goes back to v1
    for handling in handlings:  # each did what its recorded version says
        assert requested_commands(handling) == handling.rule_version.commands
    assert CompensationRule.objects.get(code="gateway_down").version == 2


def test_the_dry_run_says_what_a_report_would_request():
    assert rule_preview(service="payments", code="insufficient_funds", correlation_id="order:7") == (
        "a report order:7 from service payments with code insufficient_funds would request: "
        "1. inventory.release, 2. orders.cancel (rule v1)"
    )
    assert "no rule for (payments, nope)" in rule_preview(service="payments", code="nope")
    assert not FailureReport.objects.exists()  # nothing was filed
