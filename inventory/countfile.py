"""Decode and parse stock count files as spreadsheets really write them.

A count file is CSV with the columns `sku,location,quantity` and an optional
`counted_at`, in UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows
cp1252; separated by `,` or `;`; with CRLF or LF line ends; with spaces
around headers and cells; with headers in any case.

Nothing here touches the database: this module turns bytes into count lines
and row errors, numbered as a person sees the file (the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import datetime
from typing import NamedTuple

from core.text import TextRefused, code_normalise
from inventory.models import LOCATION_CODE_MAX_LENGTH, SKU_MAX_LENGTH

REQUIRED_COLUMNS = ("sku", "location", "quantity")
OPTIONAL_COLUMNS = ("counted_at",)
# A count above this is a typo (or an attempt to overflow a 32-bit column), not a shelf.
MAX_QUANTITY = 1_000_000_000
# The model's limits: a longer key cannot name a product or location.
MAX_SKU_LENGTH = SKU_MAX_LENGTH
MAX_LOCATION_LENGTH = LOCATION_CODE_MAX_LENGTH

_INTEGER = re.compile(r"[0-9]+")


class CountLine(NamedTuple):
    """One counted shelf: `row` is where it came from (file line, or index in a JSON list)."""

    row: int
    sku: str
    location: str
    quantity: int
    # Aware, naive (read in the location's time zone) or None (the upload time).
    counted_at: datetime | None


class RowError(NamedTuple):
    row: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


class CountKey(NamedTuple):
    """The SKU and location of a row refused for its form, still to be looked up, so that
    the row's unknown SKU or location is told with its other problems ("" for a key that
    is missing or was refused itself)."""

    row: int
    sku: str
    location: str


class ParsedCountFile(NamedTuple):
    lines: list[CountLine]
    errors: list[RowError]
    # Data rows seen (blank lines aside), good or bad.
    total_rows: int
    # The keys of the rows in `errors`, for the database's checks.
    unchecked: list[CountKey]


class CountFileError(ValueError):
    """The file cannot be read at all (not text, or not a count file)."""


def decode_count_file(data: bytes) -> str:
    """Return the text of a count file, whatever encoding a spreadsheet saved it in."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    elif _looks_like_utf16(data):
        encodings = ["utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"]
    else:
        # Strict UTF-8 first: a cp1252 file almost never decodes as valid UTF-8 by accident.
        encodings = ["utf-8", "cp1252"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or _has_control_characters(text):
            break
        return text
    raise CountFileError(
        "The file is not readable as text (expected CSV in UTF-8, UTF-16 or Windows-1252)."
    )


def _looks_like_utf16(data: bytes) -> bool:
    """A BOM-less UTF-16 file of ASCII headers has a zero in every other byte."""
    head = data[:64]
    if len(head) < 4 or len(head) % 2:
        return False
    return head[1::2].count(0) == len(head) // 2 or head[0::2].count(0) == len(head) // 2


def _has_control_characters(text: str) -> bool:
    sample = text[:4096]
    return any(ord(ch) < 32 and ch not in "\t\r\n" for ch in sample)


def _sniff_delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def parse_count_file(data: bytes) -> ParsedCountFile:
    """Parse a count file into lines and row errors; never raise for bad content."""
    if not data.strip():
        return ParsedCountFile([], [RowError(1, "file", "the file is empty")], 0, [])
    try:
        text = decode_count_file(data)
    except CountFileError as exc:
        return ParsedCountFile([], [RowError(1, "file", str(exc))], 0, [])
    return parse_count_text(text)


def parse_count_text(text: str) -> ParsedCountFile:
    """Parse decoded count file text (see `parse_count_file`)."""
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=_sniff_delimiter(first_line),
        skipinitialspace=True,
        strict=False,
    )
    errors: list[RowError] = []
    try:
        header = next(reader)
    except StopIteration:
        return ParsedCountFile([], [RowError(1, "file", "the file is empty")], 0, [])
    except csv.Error as exc:
        return ParsedCountFile([], [RowError(1, "file", f"the header is not CSV: {exc}")], 0, [])
    columns = [name.strip().lower() for name in header]
    positions: dict[str, int] = {}
    for index, name in enumerate(columns):
        if name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            if name in positions:
                errors.append(RowError(1, name, f"column '{name}' appears twice"))
            positions.setdefault(name, index)
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    for name in missing:
        errors.append(
            RowError(1, name, f"missing column '{name}' (expected sku,location,quantity)")
        )
    if errors:
        return ParsedCountFile([], errors, 0, [])

    sku_at, location_at, quantity_at = (positions[name] for name in REQUIRED_COLUMNS)
    counted_at_at = positions.get("counted_at")
    width = max(positions.values()) + 1
    lines: list[CountLine] = []
    unchecked: list[CountKey] = []
    seen: dict[tuple[str, str], int] = {}
    total = 0
    line_end = 1
    while True:
        try:
            for cells in reader:
                row_number, line_end = line_end + 1, reader.line_num
                if len(cells) < width:
                    if not "".join(cells).strip():
                        continue  # a blank line, or a row of empty cells
                    cells = cells + [""] * (width - len(cells))
                total += 1
                sku = cells[sku_at].strip()
                location = cells[location_at].strip()
                quantity = cells[quantity_at].strip()
                # The common case, checked with a few string methods: 100,000 rows go by.
                if (
                    sku
                    and location
                    and quantity.isdigit()
                    and quantity.isascii()
                    and len(quantity) < 10
                    and len(sku) <= MAX_SKU_LENGTH
                    and len(location) <= MAX_LOCATION_LENGTH
                    # Printable ASCII is already in its normal form (core.text).
                    and sku.isascii()
                    and sku.isprintable()
                    and location.isascii()
                    and location.isprintable()
                    and (counted_at_at is None or not cells[counted_at_at].strip())
                    and (sku, location) not in seen
                ):
                    seen[sku, location] = row_number
                    lines.append(CountLine(row_number, sku, location, int(quantity), None))
                    continue
                if not (sku or location or quantity or "".join(cells).strip()):
                    total -= 1
                    continue
                line = _check_row(
                    row_number,
                    sku,
                    location,
                    quantity,
                    cells[counted_at_at] if counted_at_at is not None else "",
                    seen,
                    errors,
                    unchecked,
                )
                if line is not None:
                    lines.append(line)
        except csv.Error as exc:
            total += 1
            row_number, line_end = line_end + 1, reader.line_num
            errors.append(RowError(row_number, "file", f"not valid CSV: {exc}"))
            continue
        break
    if not total and not errors:
        errors.append(RowError(1, "file", "the file has a header but no count rows"))
    return ParsedCountFile(lines, errors, total, unchecked)


def _check_row(
    row: int,
    sku: str,
    location: str,
    raw_quantity: str,
    raw_counted_at: str,
    seen: dict[tuple[str, str], int],
    errors: list[RowError],
    unchecked: list[CountKey],
) -> CountLine | None:
    """Check a row the fast path did not take; return its line, or add its errors (and
    its keys to `unchecked`)."""
    found_before = len(errors)
    sku_given, location_given = bool(sku), bool(location)
    sku = _key(row, "sku", sku, errors)
    location = _key(row, "location", location, errors)
    if not sku_given:
        errors.append(RowError(row, "sku", "sku is missing"))
    elif len(sku) > MAX_SKU_LENGTH:  # "" when _key refused it, and said why
        errors.append(RowError(row, "sku", f"unknown sku '{sku[:MAX_SKU_LENGTH]}…'"))
    if not location_given:
        errors.append(RowError(row, "location", "location is missing"))
    elif len(location) > MAX_LOCATION_LENGTH:
        errors.append(
            RowError(row, "location", f"unknown location '{location[:MAX_LOCATION_LENGTH]}…'")
        )
    quantity, problem = parse_quantity(raw_quantity)
    if problem:
        errors.append(RowError(row, "quantity", problem))
    counted_at = None
    if raw_counted_at.strip():
        counted_at, problem = parse_counted_at(raw_counted_at)
        if problem:
            errors.append(RowError(row, "counted_at", problem))
    if sku and location:
        first = seen.setdefault((sku, location), row)
        if first != row:
            errors.append(
                RowError(
                    row,
                    "sku",
                    f"sku '{sku}' at location '{location}' is already counted on row {first}",
                )
            )
    if len(errors) > found_before:
        unchecked.append(
            CountKey(
                row,
                sku if len(sku) <= MAX_SKU_LENGTH else "",
                location if len(location) <= MAX_LOCATION_LENGTH else "",
            )
        )
        return None
    return CountLine(row, sku, location, quantity, counted_at)


def _key(row: int, field: str, raw: str, errors: list[RowError]) -> str:
    """Return a SKU or location code in its normal form (core.text), or "" after adding
    the row's error."""
    if not raw:
        return ""
    try:
        return code_normalise(raw, what="A SKU" if field == "sku" else "A location code")
    except TextRefused as refused:
        errors.append(RowError(row, field, str(refused)))
        return ""


def parse_quantity(raw: str) -> tuple[int, str]:
    """Return (quantity, "") or (0, the reason it is not a count)."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) < 10:
        return int(text), ""  # the common case, without a regex
    if not text:
        return 0, "quantity is missing"
    if text.startswith("-") and _INTEGER.fullmatch(text[1:]):
        return 0, f"quantity must not be negative (got {text})"
    if not _INTEGER.fullmatch(text):
        return 0, f"quantity must be a whole number, 0 or more (got '{text[:20]}')"
    value = int(text)
    if value > MAX_QUANTITY:
        return 0, f"quantity {text} is too large (at most {MAX_QUANTITY:,})"
    return value, ""


def parse_counted_at(raw: str) -> tuple[datetime | None, str]:
    """Return (datetime, "") or (None, the reason); a naive value is read later in the
    location's time zone."""
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None, f"counted_at '{raw.strip()[:40]}' is not a date and time (YYYY-MM-DD HH:MM)"
    if len(text) <= 10:
        return None, f"counted_at '{raw.strip()}' needs a time of day (YYYY-MM-DD HH:MM)"
    return value, ""


def count_file_rows(data: bytes) -> int:
    """Return about how many rows a file holds, cheaply: to choose inline or background."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_like_utf16(data):
        return data.count(b"\n\x00") or data.count(b"\x00\n")
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def count_lines_from_records(
    records: list, *, location: str, counted_at: datetime | None
) -> tuple[list[CountLine], list[RowError], list[CountKey]]:
    """Check the `lines` of a JSON count (`[{"sku", "quantity"}, ...]`) at one location.

    Return the good lines, the errors, and the keys of the bad lines still to look up.
    Row numbers are indexes in the list, from 0.
    """
    lines: list[CountLine] = []
    errors: list[RowError] = []
    unchecked: list[CountKey] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            errors.append(RowError(index, "lines", 'a line must be an object {"sku", "quantity"}'))
            continue
        found_before = len(errors)
        sku = record.get("sku")
        if sku is None or (isinstance(sku, str) and not sku.strip()):
            errors.append(RowError(index, "sku", "sku is missing"))
            sku = ""
        elif not isinstance(sku, str):
            errors.append(RowError(index, "sku", "sku must be a string"))
            sku = ""
        else:
            sku = _key(index, "sku", sku, errors)
            if len(sku) > MAX_SKU_LENGTH:
                errors.append(RowError(index, "sku", f"unknown sku '{sku[:MAX_SKU_LENGTH]}…'"))
        quantity = record.get("quantity")
        if quantity is None:
            errors.append(RowError(index, "quantity", "quantity is missing"))
        elif isinstance(quantity, bool) or not isinstance(quantity, int):
            shown = str(quantity)[:20]
            errors.append(
                RowError(index, "quantity", f"quantity must be a whole number, 0 or more ({shown})")
            )
        elif quantity < 0:
            errors.append(
                RowError(index, "quantity", f"quantity must not be negative ({quantity})")
            )
        elif quantity > MAX_QUANTITY:
            errors.append(
                RowError(index, "quantity", f"quantity {quantity} is too large (at most 1e9)")
            )
        if sku:
            first = seen.setdefault(sku, index)
            if first != index:
                errors.append(
                    RowError(index, "sku", f"sku '{sku}' is already counted in lines[{first}]")
                )
        if len(errors) == found_before:
            lines.append(CountLine(index, sku, location, quantity, counted_at))
        else:
            unchecked.append(CountKey(index, sku if len(sku) <= MAX_SKU_LENGTH else "", location))
    return lines, errors, unchecked
