from django.db.models import QuerySet

from payments.models import Account, Coupon


def account_list() -> QuerySet[Account]:
    return Account.objects.order_by("customer")


def coupon_list(*, free_only: bool = False) -> QuerySet[Coupon]:
    coupons = Coupon.objects.order_by("code")
    return coupons.filter(used_by_reference__isnull=True) if free_only else coupons
