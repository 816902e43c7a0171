"""Inventory errors. Every one is a business failure: retrying the same request cannot help.

Each keeps its data in `args` (so it pickles and crosses process boundaries) and builds its
message in `__str__`.
"""


class InventoryError(Exception):
    """Base of every inventory error."""


class UnknownProduct(InventoryError):
    def __init__(self, sku: str):
        super().__init__(sku)
        self.sku = sku

    def __str__(self) -> str:
        return f"unknown product: {self.sku}"


class OutOfStock(InventoryError):
    def __init__(self, sku: str, requested: int, available: int):
        super().__init__(sku, requested, available)
        self.sku, self.requested, self.available = sku, requested, available

    def __str__(self) -> str:
        return f"out of stock: {self.sku} (requested {self.requested}, available {self.available})"


class InvalidItems(InventoryError, ValueError):
    """The items of a reservation are malformed (empty list, missing sku, ...)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"invalid items: {self.reason}"


class InvalidQuantity(InvalidItems):
    def __init__(self, sku: str, quantity: object):
        InventoryError.__init__(self, sku, quantity)
        self.sku, self.quantity = sku, quantity
        self.reason = f"quantity for {sku} must be a whole number >= 1, got {quantity!r}"


class ReservationReleased(InventoryError):
    """A reserve arrived for a reference that was already released (or released before it came)."""

    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference

    def __str__(self) -> str:
        return f"reservation {self.reference} was released: it can no longer take stock"


# What the saga must not retry.
BUSINESS_ERRORS: tuple[type[InventoryError], ...] = (
    UnknownProduct,
    OutOfStock,
    InvalidItems,
    ReservationReleased,
)
