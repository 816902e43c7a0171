"""The seam between the checkout saga and the services it calls: inventory and payments.

The saga's steps (and order placement, for the catalog) reach the other services only through
these functions. By default the services run in-process. When settings.SAGAOPS_PARTICIPANTS_URL
is set they are called over HTTP (their REST API under /api/inventory/ and /api/payments/) with
the service token settings.SAGAOPS_PARTICIPANTS_TOKEN, the step's idempotency key as the
`reference` they dedupe on, the saga's correlation id in `X-Correlation-ID` and the step's trace
context in `traceparent`.

The services' business exceptions (`inventory.exceptions.BUSINESS_ERRORS`,
`payments.exceptions.BUSINESS_ERRORS`) pass through unchanged, so the saga's retry policies can
name them: over HTTP a 409/422 answer carries the exception's `code` and `args` and is raised
here as the same class. Anything else (a timeout, a refused connection, a 5xx, an unexpected
answer) is ParticipantUnavailable, which the policies treat as transient.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

from django.conf import settings
from opentelemetry import propagate

from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.exceptions import InventoryError
from payments import services as payments_services
from payments.exceptions import PaymentError


class ParticipantUnavailable(Exception):
    """A remote participant could not give an answer (transient: the step is retried)."""


def _subclasses(base: type) -> list[type]:
    found = []
    for cls in base.__subclasses__():
        found += [cls, *_subclasses(cls)]
    return found


def _code(cls: type) -> str:
    """CamelCase -> snake_case, as the participants' API names its refusals (OutOfStock -> out_of_stock)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in cls.__name__).lstrip("_")


# The refusals a participant may answer with, by code; rebuilt from the code and the args.
BUSINESS_ERRORS_BY_CODE = {_code(cls): cls for cls in _subclasses(InventoryError) + _subclasses(PaymentError)}


def _remote() -> bool:
    return bool(getattr(settings, "SAGAOPS_PARTICIPANTS_URL", ""))


def _business_error(status: int, body: bytes) -> Exception | None:
    if status not in (409, 422):
        return None
    try:
        answer = json.loads(body)
        cls = BUSINESS_ERRORS_BY_CODE[answer["code"]]
        return cls(*answer["args"])
    except (ValueError, KeyError, TypeError):
        return None


def _call(method: str, path: str, body: dict | None = None, correlation_id: str = "") -> dict:
    url = settings.SAGAOPS_PARTICIPANTS_URL.rstrip("/") + path
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if settings.SAGAOPS_PARTICIPANTS_TOKEN:
        headers["Authorization"] = f"Token {settings.SAGAOPS_PARTICIPANTS_TOKEN}"
    if correlation_id:
        headers["X-Correlation-ID"] = correlation_id
    # The W3C traceparent of the step's span: the participant's spans join the saga's trace.
    propagate.inject(headers)
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data if method == "POST" else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=settings.SAGAOPS_PARTICIPANTS_TIMEOUT) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        answer = error.read()
        refusal = _business_error(error.code, answer)
        if refusal is not None:
            raise refusal from None
        raise ParticipantUnavailable(f"{method} {url} answered {error.code}: {answer[:300]!r}") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        raise ParticipantUnavailable(f"{method} {url} failed: {error}") from None


def _quote(reference: str) -> str:
    return urllib.parse.quote(reference, safe="")


def product_prices(skus: list[str]) -> dict[str, Decimal]:
    """Catalog prices of `skus`; unknown skus are absent from the answer."""
    if not _remote():
        return inventory_selectors.product_prices(skus=skus)
    query = urllib.parse.urlencode([("sku", sku) for sku in skus])
    prices = _call("GET", f"/api/inventory/products/?{query}")["prices"]
    return {sku: Decimal(price) for sku, price in prices.items()}


def reserve_stock(reference: str, items: list[dict], correlation_id: str = "") -> dict:
    if not _remote():
        return inventory_services.reservation_reserve(reference=reference, items=items)
    body = {"reference": reference, "items": items}
    return _call("POST", "/api/inventory/reservations/", body, correlation_id)


def release_stock(reference: str, correlation_id: str = "") -> dict:
    if not _remote():
        return inventory_services.reservation_release(reference=reference)
    return _call("POST", f"/api/inventory/reservations/{_quote(reference)}/release/", None, correlation_id)


def charge(reference: str, customer: str, amount: Decimal | str, coupon: str | None, correlation_id: str = "") -> dict:
    if not _remote():
        return payments_services.payment_charge(
            reference=reference, customer=customer, amount=amount, coupon_code=coupon or None
        )
    body = {"reference": reference, "customer": customer, "amount": str(amount), "coupon": coupon or None}
    return _call("POST", "/api/payments/charges/", body, correlation_id)


def refund(reference: str, correlation_id: str = "") -> dict:
    if not _remote():
        return payments_services.payment_refund(reference=reference)
    return _call("POST", f"/api/payments/charges/{_quote(reference)}/refund/", None, correlation_id)
