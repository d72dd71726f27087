"""Returns received by a 3PL, from its file: all or nothing, every bad row told."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from core.exceptions import DomainError
from inventory.models import Location
from returns.models import ReturnReceipt
from returns.receiving import ReceiptRefused, RowProblem, returns_receive_rows
from returns.returnfile import parse_return_file


class ReturnsRejected(DomainError):
    """A returns file with bad rows: nothing was applied."""

    code = "returns_rejected"

    def __init__(self, row_errors: list[dict]):
        self.row_errors = row_errors
        super().__init__(f"{len(row_errors)} row(s) rejected; nothing was applied.", field="rows")


def returns_import(
    *, data: bytes, location: Location | None = None, actor: AbstractBaseUser | None = None
) -> int:
    """Receive every return of the file in one transaction, each at `location` (else where
    it is expected); return how many returns were received. Any bad row rejects the file
    with every bad row told; `location` also limits the file to returns expected there."""
    rows, errors = parse_return_file(data)
    try:
        # The rows checked and written set-based, as one receipt from the API is.
        with transaction.atomic(durable=True):
            received = returns_receive_rows(
                rows=rows,
                at=location,
                expected_at=location,
                source=ReturnReceipt.Source.FILE,
                actor=actor,
                problems=[RowProblem(e.row, e.field, e.message) for e in errors],
            )
    except ReceiptRefused as refused:  # nothing of the file was applied
        raise ReturnsRejected(
            [{"row": p.row, "field": p.field, "message": p.message} for p in refused.problems]
        ) from None
    return len(received)
