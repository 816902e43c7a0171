"""The engine's errors. Messages are shared with the tests, the API and the console."""


class SagaError(Exception):
    """Base of every sagaops error."""


class SagaDefinitionError(SagaError):
    pass


class UnknownSagaType(SagaError):
    def __init__(self, name: str):
        super().__init__(f"unknown saga type: {name}")
        self.name = name


class IdempotencyConflict(SagaError):
    def __init__(self, key: str):
        super().__init__(f"idempotency key {key!r} was already used with a different request")
        self.key = key


class InvalidTransition(SagaError):
    def __init__(self, what: str, current: str, target: str):
        super().__init__(f"{what} cannot move from {current} to {target}")
        self.current = current
        self.target = target


class ActionRefused(SagaError):
    """An operator action or a callback that the saga's current state forbids."""

    def __init__(self, message: str, status: str | None = None):
        super().__init__(message)
        self.status = status


class NotPermitted(SagaError):
    """The operator lacks the permission the action needs."""


class ConcurrentUpdate(ActionRefused):
    """Someone else changed the saga first (the version fence)."""


class StepTimeout(SagaError):
    def __init__(self, step: str, seconds: float):
        super().__init__(f"step {step} timed out after {seconds:g}s")


class InjectedFault(SagaError):
    """Raised by fault injection (SAGAOPS_FAULTS); a transient error."""


class WorkerLost(SagaError):
    """An attempt's executor disappeared (its worker was killed) before it recorded an outcome."""

    def __init__(self, what: str):
        super().__init__(f"worker died while running {what}")


class ReportedFailure(SagaError):
    """A failure a service reported for its async step (through the API's fail callback)."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable
