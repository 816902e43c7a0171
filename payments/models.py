from decimal import Decimal

from django.db import models
from django.db.models import Q


class Account(models.Model):
    customer = models.CharField(max_length=200, unique=True)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering = ["customer"]
        constraints = [
            # The last line of defence: a bug in a service fails loudly instead of overdrawing.
            models.CheckConstraint(condition=Q(balance__gte=0), name="payments_account_balance_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.balance})"


class Coupon(models.Model):
    """A single-use discount: `used_by_reference` is the payment that took it (NULL = free)."""

    code = models.CharField(max_length=64, unique=True)
    discount = models.DecimalField(max_digits=10, decimal_places=2)
    used_by_reference = models.CharField(max_length=255, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(discount__gt=0), name="payments_coupon_discount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.code} (-{self.discount}{', used' if self.used_by_reference else ''})"


class Payment(models.Model):
    """A charge under the caller's reference (the saga step's idempotency key).

    `amount` is what was asked, `discount` what the coupon took off; the account is debited
    the difference. A refunded payment with amount 0 and no customer is a tombstone: the
    refund came first, and it stops a late charge with that reference.
    """

    class Status(models.TextChoices):
        CHARGED = "charged", "Charged"
        REFUNDED = "refunded", "Refunded"

    reference = models.CharField(max_length=255, unique=True)
    customer = models.CharField(max_length=200, blank=True, db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CHARGED)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "created"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0, discount__gte=0, discount__lte=models.F("amount")),
                name="payments_payment_discount_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.customer} {self.charged} ({self.status})"

    @property
    def charged(self) -> Decimal:
        """What the account was debited (and is credited back on refund)."""
        return self.amount - self.discount

    @property
    def is_tombstone(self) -> bool:
        return self.status == self.Status.REFUNDED and not self.customer
