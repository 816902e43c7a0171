"""Payment errors. Every one is a business failure: retrying the same request cannot help.

Each keeps its data in `args` (so it pickles and crosses process boundaries) and builds its
message in `__str__`.
"""

from decimal import Decimal


class PaymentError(Exception):
    """Base of every payments error."""


class UnknownAccount(PaymentError):
    def __init__(self, customer: str):
        super().__init__(customer)
        self.customer = customer

    def __str__(self) -> str:
        return f"no account for customer {self.customer}"


class InsufficientFunds(PaymentError):
    def __init__(self, customer: str, needed: Decimal, available: Decimal):
        super().__init__(customer, needed, available)
        self.customer, self.needed, self.available = customer, needed, available

    def __str__(self) -> str:
        return f"insufficient funds: {self.customer} needs {self.needed}, has {self.available}"


class UnknownCoupon(PaymentError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"unknown coupon: {self.code}"


class CouponAlreadyUsed(PaymentError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"coupon {self.code} has already been used"


class InvalidAmount(PaymentError, ValueError):
    def __init__(self, amount: object):
        super().__init__(amount)
        self.amount = amount

    def __str__(self) -> str:
        return f"amount must be a positive decimal with at most 2 places, got {self.amount!r}"


class PaymentRefunded(PaymentError):
    """A charge arrived for a reference that was already refunded (or refunded before it came)."""

    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference

    def __str__(self) -> str:
        return f"payment {self.reference} was refunded: it can no longer be charged"


# What the saga must not retry.
BUSINESS_ERRORS: tuple[type[PaymentError], ...] = (
    InsufficientFunds,
    CouponAlreadyUsed,
    UnknownCoupon,
    UnknownAccount,
    InvalidAmount,
    PaymentRefunded,
)
