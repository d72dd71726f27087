"""Order errors with a message for a person."""

from core.exceptions import ConflictError, DomainError


class InvalidTransition(ConflictError):
    code = "invalid_transition"


class OrderRejected(DomainError):
    """An order that cannot be taken as sent (e.g. click & collect at a store lacking stock)."""

    code = "order_rejected"
