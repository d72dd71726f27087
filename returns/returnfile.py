"""Parse a 3PL's file of received returns: which units of which return came back, and what
became of them.

CSV with the columns `return` (the number; `return_number` is read too), `sku`, `quantity`
and `disposition` (`restock`, `damaged` or `dispose`), decoded as stock count files are
(UTF-8 with or without BOM, UTF-16, Windows-1252; `,` or `;`). Nothing here touches the
database; rows are numbered as a person sees the file (the header is row 1).
"""

from __future__ import annotations

from core.text import TextRefused, code_normalise
from inventory.countfile import RowError
from inventory.csvrows import csv_records
from inventory.models import SKU_MAX_LENGTH
from orders.models import MAX_LINE_QUANTITY
from returns.models import ReturnReceiptLine
from returns.numbers import return_number_is_plausible
from returns.receiving import ReceivedRow

COLUMNS = ("return", "sku", "quantity", "disposition")
ALIASES = {"return_number": "return", "number": "return"}
DISPOSITIONS = frozenset(ReturnReceiptLine.Disposition.values)


def parse_return_file(data: bytes) -> tuple[list[ReceivedRow], list[RowError]]:
    """Return the file's rows, as they are received, and its row errors; never raise for
    bad content."""
    records, errors = csv_records(data, COLUMNS, ALIASES, what="return")
    lines = []
    for row, cells in records:
        number, sku, quantity, disposition = cells
        line = _line(row, number, sku, quantity, disposition, errors)
        if line is not None:
            lines.append(line)
    return lines, errors


def _line(row, number, sku, quantity, disposition, errors) -> ReceivedRow | None:
    before = len(errors)
    number = number.upper()
    if not return_number_is_plausible(number):
        errors.append(RowError(row, "return", f"'{number[:32]}' is not a return number"))
    try:
        sku = code_normalise(sku, what="A SKU") if sku else ""
    except TextRefused as refused:
        errors.append(RowError(row, "sku", str(refused)))
    else:
        if not sku:
            errors.append(RowError(row, "sku", "the SKU is missing"))
        elif len(sku) > SKU_MAX_LENGTH:
            errors.append(RowError(row, "sku", f"longer than {SKU_MAX_LENGTH} characters"))
    if not (quantity.isascii() and quantity.isdigit()) or not (
        1 <= int(quantity) <= MAX_LINE_QUANTITY
    ):
        errors.append(
            RowError(row, "quantity", f"'{quantity[:32]}' is not a whole number of units")
        )
    disposition = disposition.lower()
    if disposition not in DISPOSITIONS:
        errors.append(
            RowError(
                row,
                "disposition",
                f"'{disposition[:32]}' is not one of {', '.join(sorted(DISPOSITIONS))}",
            )
        )
    if len(errors) > before:
        return None
    return ReceivedRow(row, number, sku, int(quantity), disposition)
