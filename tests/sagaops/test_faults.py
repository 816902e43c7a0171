import pytest

from sagaops.exceptions import InjectedFault
from sagaops.faults import Fault, inject, parse_spec, set_redis_spec


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
