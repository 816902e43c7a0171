from django.db import models
from django.db.models import Q


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)

    class Meta:
        ordering = ["sku"]
        constraints = [
            # The last line of defence: a bug in a service fails loudly instead of overselling.
            models.CheckConstraint(condition=Q(stock__gte=0), name="inventory_product_stock_gte_0"),
            models.CheckConstraint(condition=Q(price__gte=0), name="inventory_product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} ({self.stock} in stock)"


class Reservation(models.Model):
    """Stock held for one caller's reference (the saga step's idempotency key).

    A released reservation without lines is a tombstone: the release came first (a reserve that
    timed out and never happened), and it stops a late reserve with that reference.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"

    reference = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "created"])]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservation_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["product__sku"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="inventory_reservationline_quantity_gte_1"),
            models.UniqueConstraint(fields=["reservation", "product"], name="inventory_reservationline_unique_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product.sku}"
