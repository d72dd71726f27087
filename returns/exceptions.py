"""Return errors with a message for a person and the field they are about."""

from core.exceptions import ConflictError, DomainError


class ReturnRejected(DomainError):
    """A return, a receipt or a refund that cannot be taken as sent: nothing was applied."""

    code = "return_rejected"


class ReturnConflict(ConflictError):
    """The return's state does not allow it (cancel after receiving, refund twice ...)."""

    code = "return_conflict"
