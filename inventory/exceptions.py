"""Stock errors with a message for a person and the field they are about."""

from core.exceptions import ConflictError, DomainError


class InsufficientStock(DomainError):
    code = "insufficient_stock"

    def __init__(self, message: str, *, field: str = "quantity"):
        super().__init__(message, field=field)


class InvalidQuantity(DomainError):
    code = "invalid_quantity"

    def __init__(self, message: str, *, field: str = "quantity"):
        super().__init__(message, field=field)


class IdempotencyConflict(ConflictError):
    code = "idempotency_conflict"


class CountRejected(DomainError):
    """A stock count file with bad rows: nothing was applied."""

    code = "count_rejected"

    def __init__(self, row_errors: list[dict]):
        self.row_errors = row_errors
        super().__init__(f"{self.rows} row(s) rejected; nothing was applied.", field="rows")

    @property
    def rows(self) -> int:
        """Rows rejected: a row with several problems has several errors."""
        return len({error["row"] for error in self.row_errors})


class UnitsShort(ConflictError):
    """Some products cannot be spared at a location: nothing was held.

    `shortages` are (product id, units asked, units available) for each of them.
    """

    code = "insufficient_stock"

    def __init__(self, shortages: list[tuple[int, int, int]]):
        self.shortages = shortages
        super().__init__(f"{len(shortages)} line(s) cannot be spared; nothing was held.")
