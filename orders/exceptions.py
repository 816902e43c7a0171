"""Order errors. Each keeps its data in `args` and builds its message in `__str__`."""


class OrderError(Exception):
    """Base of every orders error."""


class InvalidOrder(OrderError, ValueError):
    """The request to place an order is malformed; `field` names the offending input."""

    def __init__(self, field: str, problem: str):
        super().__init__(field, problem)
        self.field, self.problem = field, problem

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class OrderNotFound(OrderError):
    def __init__(self, order_id: int):
        super().__init__(order_id)
        self.order_id = order_id

    def __str__(self) -> str:
        return f"order {self.order_id} does not exist"


class OrderStateError(OrderError):
    """The order's status forbids the operation (confirm a cancelled order, ...)."""

    def __init__(self, order_id: int, status: str, operation: str):
        super().__init__(order_id, status, operation)
        self.order_id, self.status, self.operation = order_id, status, operation

    def __str__(self) -> str:
        return f"order {self.order_id} is {self.status}: cannot {self.operation} it"


# What the saga must not retry.
BUSINESS_ERRORS: tuple[type[OrderError], ...] = (InvalidOrder, OrderNotFound, OrderStateError)
