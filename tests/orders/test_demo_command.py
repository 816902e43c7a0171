import pytest
from django.core.management import CommandError, call_command

from orders.models import Order
from sagaops.faults import REDIS_KEY
from sagaops.redis import get_redis

pytestmark = pytest.mark.django_db


def test_a_bad_fault_spec_is_a_one_line_command_error():
    with pytest.raises(CommandError, match="--faults: bad fault 'nonsense'"):
        call_command("sagaops_demo", "--orders", "0", "--faults", "nonsense")


def test_faults_are_handed_to_the_workers_through_redis():
    call_command("sagaops_demo", "--orders", "0", "--faults", "payments.charge=error:0.5")

    assert get_redis().get(REDIS_KEY) == "payments.charge=error:0.5"


def test_demo_without_a_catalog_says_to_seed_first():
    with pytest.raises(CommandError, match="sagaops_seed"):
        call_command("sagaops_demo", "--orders", "3")


def test_demo_places_orders_and_prints_a_line_each_and_a_summary(capsys):
    call_command("sagaops_seed")

    call_command("sagaops_demo", "--orders", "5", "--seed", "7")

    lines = capsys.readouterr().out.strip().splitlines()
    assert len([line for line in lines if line.startswith("#")]) == 5
    assert lines[-1].startswith("placed ")
    assert Order.objects.count() == 5
    assert Order.objects.filter(saga_id__isnull=True).count() == 0


def test_if_empty_places_nothing_when_orders_exist(capsys):
    call_command("sagaops_seed")
    call_command("sagaops_demo", "--orders", "2", "--seed", "1")

    call_command("sagaops_demo", "--orders", "5", "--if-empty")

    assert "orders exist already" in capsys.readouterr().out
    assert Order.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_demo_starts_provisioning_sagas_with_ten_branches_and_a_child(celery_worker, capsys):
    from sagaops.models import Saga
    from tests.helpers import wait_for_status

    call_command("sagaops_demo", "--orders", "0", "--provisioning", "2")

    assert capsys.readouterr().out.count("provisioning store-") == 2
    first, second = Saga.objects.filter(type="provisioning").order_by("created_at")
    first, second = wait_for_status(first.id, timeout=60), wait_for_status(second.id, timeout=60)
    assert (first.status, second.status) == ("completed", "compensated")
    assert first.children.get().status == "completed"  # the ship child saga
    assert first.steps.filter(name__startswith="warehouse_", status="succeeded").count() == 10
    assert second.steps.filter(name__startswith="warehouse_", status="compensated").count() == 9
