"""Parse a 3PL's shipment file: which fulfilment left, with which carrier and tracking number.

CSV with the columns `fulfilment` (the id, as exported; `fulfilment_id` is read too),
`carrier` and `tracking_number`, decoded as stock count files are (UTF-8 with or without
BOM, UTF-16, Windows-1252; `,` or `;`). Nothing here touches the database; rows are
numbered as a person sees the file (the header is row 1).
"""

from __future__ import annotations

from typing import NamedTuple

from inventory.countfile import RowError
from inventory.csvrows import csv_records

MAX_CARRIER = 64
MAX_TRACKING = 128
MAX_ID = 2**63 - 1
COLUMNS = ("fulfilment", "carrier", "tracking_number")
ALIASES = {"fulfilment_id": "fulfilment", "id": "fulfilment"}


class ShipmentLine(NamedTuple):
    row: int
    fulfilment_id: int
    carrier: str
    tracking_number: str


def parse_shipment_file(data: bytes) -> tuple[list[ShipmentLine], list[RowError]]:
    """Return the file's shipment lines and its row errors; never raise for bad content."""
    records, errors = csv_records(data, COLUMNS, ALIASES, what="shipment")
    lines = []
    seen: dict[int, int] = {}
    for row, cells in records:
        fulfilment, carrier, tracking = cells
        line = _line(row, fulfilment, carrier, tracking, seen, errors)
        if line is not None:
            lines.append(line)
    return lines, errors


def _line(row, fulfilment, carrier, tracking, seen, errors) -> ShipmentLine | None:
    before = len(errors)
    if not (fulfilment.isascii() and fulfilment.isdigit()) or int(fulfilment) > MAX_ID:
        errors.append(RowError(row, "fulfilment", f"'{fulfilment}' is not a fulfilment id"))
    elif int(fulfilment) in seen:
        errors.append(
            RowError(
                row, "fulfilment", f"fulfilment {fulfilment} is on row {seen[int(fulfilment)]} too"
            )
        )
    if not carrier:
        errors.append(RowError(row, "carrier", "the carrier is missing"))
    elif len(carrier) > MAX_CARRIER:
        errors.append(RowError(row, "carrier", f"longer than {MAX_CARRIER} characters"))
    if not tracking:
        errors.append(RowError(row, "tracking_number", "the tracking number is missing"))
    elif len(tracking) > MAX_TRACKING:
        errors.append(RowError(row, "tracking_number", f"longer than {MAX_TRACKING} characters"))
    if len(errors) > before:
        return None
    seen[int(fulfilment)] = row
    return ShipmentLine(row, int(fulfilment), carrier, tracking)
