"""The seam between the checkout saga and the services it calls: inventory and payments.

The saga's steps (and order placement, for the catalog) reach the other services only through
these functions. Today the services run in-process. When settings.SAGAOPS_PARTICIPANTS_URL is
set they must be called over HTTP instead; that client is not written yet, so a configured URL
fails loudly here rather than quietly running in-process against the local database.

The services' business exceptions (`inventory.exceptions.BUSINESS_ERRORS`,
`payments.exceptions.BUSINESS_ERRORS`) pass through unchanged, so the saga's retry policies can
name them; anything else is treated as transient.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from payments import services as payments_services


def _in_process() -> None:
    url = getattr(settings, "SAGAOPS_PARTICIPANTS_URL", "")
    if url:
        # TODO(http participants): call f"{url}/..." with the reference as the idempotency key.
        raise ImproperlyConfigured(
            f"SAGAOPS_PARTICIPANTS_URL is set ({url}) but the HTTP participant client is not "
            "implemented yet: unset it to call inventory and payments in-process"
        )


def product_prices(skus: list[str]) -> dict[str, Decimal]:
    """Catalog prices of `skus`; unknown skus are absent from the answer."""
    _in_process()
    return inventory_selectors.product_prices(skus=skus)


def reserve_stock(reference: str, items: list[dict]) -> dict:
    _in_process()
    return inventory_services.reservation_reserve(reference=reference, items=items)


def release_stock(reference: str) -> dict:
    _in_process()
    return inventory_services.reservation_release(reference=reference)


def charge(reference: str, customer: str, amount: Decimal | str, coupon: str | None) -> dict:
    _in_process()
    return payments_services.payment_charge(
        reference=reference, customer=customer, amount=amount, coupon_code=coupon or None
    )


def refund(reference: str) -> dict:
    _in_process()
    return payments_services.payment_refund(reference=reference)
