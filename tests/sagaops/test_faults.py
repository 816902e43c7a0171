import pytest

from inventory import services as inventory
from orders import services as orders
from payments import services as payments
from sagaops.exceptions import InjectedFault
from sagaops.faults import Fault, fault_point, inject, parse_spec, set_redis_spec


def test_parse_spec_reads_each_kind():
    spec = "payments.charge=error:0.2, inventory.reserve=delay:2,orders.notify=hang,x.y=first:3"
    assert parse_spec(spec) == {
        "payments.charge": Fault("error", 0.2),
        "inventory.reserve": Fault("delay", 2.0),
        "orders.notify": Fault("hang", 3600.0),
        "x.y": Fault("first", 3.0),
    }


@pytest.mark.parametrize("bad", ["nonsense", "a.b=explode", "a.b=error:lots", "=error"])
def test_parse_spec_names_the_bad_entry(bad):
    with pytest.raises(ValueError, match="bad fault"):
        parse_spec(bad)


def test_first_n_fails_only_the_first_calls():
    set_redis_spec("x.y=first:2")
    outcomes = []
    for _ in range(4):
        try:
            inject("x.y")
            outcomes.append("ok")
        except InjectedFault:
            outcomes.append("fault")
    assert outcomes == ["fault", "fault", "ok", "ok"]


def test_other_points_are_untouched():
    set_redis_spec("x.y=error:1")
    inject("x.z")
    with pytest.raises(InjectedFault, match="injected fault at x.y"):
        inject("x.y")


def test_a_fault_point_strikes_before_the_operation_and_its_reply_after(settings):
    done = []

    @fault_point("svc.op")
    def operation(value):
        done.append(value)
        return value

    settings.SAGAOPS_FAULTS_FROM_REDIS = False
    settings.SAGAOPS_FAULTS = ""
    assert operation(1) == 1 and done == [1]
    settings.SAGAOPS_FAULTS = "svc.op=error:1"
    with pytest.raises(InjectedFault, match="injected fault at svc.op$"):
        operation(2)
    assert done == [1]  # nothing done
    settings.SAGAOPS_FAULTS = "svc.op.reply=error:1"
    with pytest.raises(InjectedFault, match="injected fault at svc.op.reply"):
        operation(3)
    assert done == [1, 3]  # the work was done, the answer lost


def test_the_participants_operations_are_fault_points():
    points = {
        f.fault_point
        for f in (
            orders.order_place,
            orders.order_confirm,
            orders.order_notify,
            inventory.reservation_reserve,
            inventory.reservation_release,
            payments.payment_charge,
            payments.payment_refund,
            payments.coupon_release,
        )
    }
    assert points == {
        "orders.create",
        "orders.confirm",
        "orders.notify",
        "inventory.reserve",
        "inventory.release",
        "payments.charge",
        "payments.refund",
        "payments.coupon_release",
    }
