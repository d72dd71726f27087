"""Returns received by a 3PL, from its file: all or nothing, every bad row told."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from core.exceptions import DomainError
from inventory.countfile import RowError
from inventory.models import Location, Product
from returns.inputs import ReceiveLineInput
from returns.models import Return, ReturnReceipt
from returns.returnfile import ReturnFileLine, parse_return_file
from returns.services import Receipt, returns_receive_within


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
    lines, errors = parse_return_file(data)
    returns = {
        ret.number: ret
        for ret in Return.objects.select_related("location").filter(
            number__in={line.number for line in lines}
        )
    }
    products = {p.sku: p for p in Product.objects.filter(sku__in={line.sku for line in lines})}
    by_return: dict[str, list[ReturnFileLine]] = defaultdict(list)
    for line in lines:
        ret = returns.get(line.number)
        if ret is None or (location is not None and ret.location_id != location.pk):
            where = f" expected at {location.code}" if location is not None else ""
            errors.append(RowError(line.row, "return", f"no return {line.number}{where}"))
        elif location is None and ret.location is None:
            errors.append(RowError(line.row, "return", f"return {line.number} names no location"))
        elif line.sku not in products:
            errors.append(RowError(line.row, "sku", f"no product with SKU '{line.sku}'"))
        else:
            by_return[line.number].append(line)
    if errors:
        raise ReturnsRejected(sorted((e.as_dict() for e in errors), key=lambda e: e["row"]))
    receipts = []
    for number, rows in by_return.items():
        receiving = location or returns[number].location
        assert receiving is not None
        receipts.append(
            Receipt(
                returns[number],
                receiving,
                [
                    ReceiveLineInput(products[row.sku], row.quantity, row.disposition)
                    for row in rows
                ],
            )
        )
    try:
        # Every return of the file in one set-based pass (the same as one receipt's).
        with transaction.atomic(durable=True):
            returns_receive_within(receipts=receipts, actor=actor, source=ReturnReceipt.Source.FILE)
    except DomainError as error:  # nothing of the file was applied
        number = getattr(error, "return_number", "")
        row = by_return[number][0].row if number in by_return else 1
        raise ReturnsRejected(
            [{"row": row, "field": "return", "message": f"return {number}: {error.message}"}]
        ) from None
    return len(by_return)
