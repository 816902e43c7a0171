from decimal import Decimal

import factory

from payments.models import Account, Coupon


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    customer = factory.Sequence(lambda n: f"customer{n}")
    balance = Decimal("100.00")


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"COUPON{n}")
    discount = Decimal("5.00")
