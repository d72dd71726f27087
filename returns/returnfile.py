"""Parse a 3PL's file of received returns: which units of which return came back, and what
became of them.

CSV with the columns `return` (the number; `return_number` is read too), `sku`, `quantity`
and `disposition` (`restock`, `damaged` or `dispose`), decoded as stock count files are
(UTF-8 with or without BOM, UTF-16, Windows-1252; `,` or `;`). Nothing here touches the
database; rows are numbered as a person sees the file (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from typing import NamedTuple

from core.text import TextRefused, code_normalise
from inventory.countfile import CountFileError, RowError, decode_count_file
from inventory.models import SKU_MAX_LENGTH
from orders.models import MAX_LINE_QUANTITY
from returns.models import ReturnReceiptLine
from returns.numbers import return_number_is_plausible

COLUMNS = ("return", "sku", "quantity", "disposition")
ALIASES = {"return_number": "return", "number": "return"}
DISPOSITIONS = frozenset(ReturnReceiptLine.Disposition.values)


class ReturnFileLine(NamedTuple):
    row: int
    number: str
    sku: str
    quantity: int
    disposition: str


def parse_return_file(data: bytes) -> tuple[list[ReturnFileLine], list[RowError]]:
    """Return the file's lines and its row errors; never raise for bad content."""
    if not data.strip():
        return [], [RowError(1, "file", "the file is empty")]
    try:
        text = decode_count_file(data).lstrip("\ufeff")
    except CountFileError as error:
        return [], [RowError(1, "file", str(error))]
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    try:
        header = [ALIASES.get(name.strip().lower(), name.strip().lower()) for name in next(reader)]
    except (StopIteration, csv.Error):
        return [], [RowError(1, "file", "the header is missing or not CSV")]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        return [], [
            RowError(1, name, f"missing column '{name}' (expected {','.join(COLUMNS)})")
            for name in missing
        ]
    at = {name: header.index(name) for name in COLUMNS}
    lines: list[ReturnFileLine] = []
    errors: list[RowError] = []
    try:
        for cells in reader:
            row = reader.line_num
            if not "".join(cells).strip():
                continue
            cells = cells + [""] * (len(header) - len(cells))
            number, sku, quantity, disposition = (cells[at[name]].strip() for name in COLUMNS)
            line = _line(row, number, sku, quantity, disposition, errors)
            if line is not None:
                lines.append(line)
    except csv.Error as error:
        errors.append(RowError(reader.line_num, "file", f"not valid CSV: {error}"))
    if not lines and not errors:
        errors.append(RowError(1, "file", "the file has no return rows"))
    return lines, errors


def _line(row, number, sku, quantity, disposition, errors) -> ReturnFileLine | None:
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
    return ReturnFileLine(row, number, sku, int(quantity), disposition)
