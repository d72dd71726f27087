"""The rows of a CSV file that people and partners send (shipment files, return files):
read as stock count files are read (UTF-8 with or without BOM, UTF-16, Windows-1252; `,`
or `;`; header names in any case, with aliases), each row numbered as a person sees the
file (the header is row 1). Every problem is a `RowError`; nothing here raises for bad
content or touches the database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from inventory.countfile import CountFileError, RowError, decode_count_file

Record = tuple[int, tuple[str, ...]]


def csv_records(
    data: bytes, columns: Sequence[str], aliases: Mapping[str, str], *, what: str
) -> tuple[list[Record], list[RowError]]:
    """Return every non-blank row as (row number, its `columns`' cells, trimmed) and the
    file's own errors (empty, unreadable, a column missing, not CSV, no rows of `what`)."""
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
        header = [aliases.get(name.strip().lower(), name.strip().lower()) for name in next(reader)]
    except (StopIteration, csv.Error):
        return [], [RowError(1, "file", "the header is missing or not CSV")]
    missing = [name for name in columns if name not in header]
    if missing:
        return [], [
            RowError(1, name, f"missing column '{name}' (expected {','.join(columns)})")
            for name in missing
        ]
    at = [header.index(name) for name in columns]
    records: list[Record] = []
    try:
        for cells in reader:
            if not "".join(cells).strip():
                continue
            cells = cells + [""] * (len(header) - len(cells))
            records.append((reader.line_num, tuple([cells[i].strip() for i in at])))
    except csv.Error as error:
        return records, [RowError(reader.line_num, "file", f"not valid CSV: {error}")]
    if not records:
        return [], [RowError(1, "file", f"the file has no {what} rows")]
    return records, []
