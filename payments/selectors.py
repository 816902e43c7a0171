from django.db.models import QuerySet

from payments.models import Account, Coupon, Payment


def account_list() -> QuerySet[Account]:
    return Account.objects.order_by("customer")


def account_get(*, customer: str) -> Account | None:
    return Account.objects.filter(customer=customer).first()


def coupon_list(*, free_only: bool = False) -> QuerySet[Coupon]:
    coupons = Coupon.objects.order_by("code")
    return coupons.filter(used_by_reference__isnull=True) if free_only else coupons


def payment_get(*, reference: str) -> Payment | None:
    return Payment.objects.select_related("coupon").filter(reference=reference).first()
