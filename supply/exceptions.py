"""Supply errors with a message for a person and the field they are about."""

from __future__ import annotations

from core.exceptions import ConflictError, DomainError


class SupplyInvalid(DomainError):
    code = "invalid"


class InvalidTransition(ConflictError):
    code = "invalid_transition"

    def __init__(self, message: str):
        super().__init__(message, field="status")


class LinesShort(ConflictError):
    """A transfer's `from` location cannot spare some lines: nothing was held.

    `lines` are `{"line", "sku", "quantity", "available"}` for each of them.
    """

    code = "insufficient_stock"

    def __init__(self, location: str, lines: list[dict]):
        self.lines = lines
        message = "; ".join(
            f"lines[{line['line']}] ({line['sku']}): {line['quantity']} asked, "
            f"{line['available']} available at {location}"
            for line in lines
        )
        super().__init__(f"{message}. Nothing was held.", field="lines")


class AlreadyRequested(ConflictError):
    """An alert's suggested transfer was requested already: one click, one transfer."""

    code = "already_requested"
