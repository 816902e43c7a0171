from decimal import Decimal

from django.db import models
from django.db.models import Q


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.CharField(max_length=200, db_index=True)
    # The lines at their catalog prices (the subtotal), before any coupon.
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    # What the payment took off and what it charged: recorded when the order is confirmed.
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    charged = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    coupon = models.CharField(max_length=64, blank=True, default="")
    # The checkout saga, by id only: the domain apps do not depend on the engine's tables.
    saga_id = models.UUIDField(null=True, blank=True, db_index=True)
    # The client's idempotency key: a replayed request finds its order (and so its saga) here.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "created"])]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="orders_order_total_gte_0")]

    def __str__(self) -> str:
        return f"order {self.pk} {self.customer} {self.total} ({self.status})"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    # The catalog price when the order was placed.
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_orderline_quantity_gte_1"),
            models.UniqueConstraint(fields=["order", "sku"], name="orders_orderline_unique_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku} @ {self.unit_price}"
