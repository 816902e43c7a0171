from collections.abc import Iterable
from decimal import Decimal

from django.db.models import QuerySet

from inventory.models import Product


def product_list() -> QuerySet[Product]:
    return Product.objects.order_by("sku")


def product_prices(*, skus: Iterable[str]) -> dict[str, Decimal]:
    """Catalog prices of the given skus; unknown skus are simply absent."""
    return dict(Product.objects.filter(sku__in=set(skus)).values_list("sku", "price"))
