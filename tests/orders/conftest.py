from decimal import Decimal

import pytest

from tests.inventory.factories import ProductFactory
from tests.payments.factories import AccountFactory, CouponFactory


@pytest.fixture
def catalog(db):
    """Two products, one rich customer (ann), one poor (pat), one coupon."""
    ProductFactory(sku="KB", price=Decimal("89.00"), stock=10)
    ProductFactory(sku="MS", price=Decimal("29.50"), stock=10)
    AccountFactory(customer="ann", balance=Decimal("1000.00"))
    AccountFactory(customer="pat", balance=Decimal("5.00"))
    CouponFactory(code="TEN", discount=Decimal("10.00"))
