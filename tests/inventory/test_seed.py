import pytest
from django.core.management import call_command

from inventory.models import Product
from payments.models import Account, Coupon

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int]:
    return Product.objects.count(), Account.objects.count(), Coupon.objects.count()


def test_seed_creates_the_demo_catalog():
    call_command("sagaops_seed", stdout=None)

    products, accounts, coupons = counts()
    assert products >= 8 and accounts >= 20 and coupons >= 10
    assert Account.objects.filter(balance__lt=50).exists()  # a few poor customers


def test_seed_twice_creates_nothing_more_and_keeps_changed_state():
    call_command("sagaops_seed")
    Product.objects.filter(sku="KB-001").update(stock=1)

    call_command("sagaops_seed")

    assert counts() == (8, 20, 10)
    assert Product.objects.get(sku="KB-001").stock == 1
