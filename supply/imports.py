"""Purchase orders (or advance shipping notices) from a CSV file: all or nothing.

Header `number,supplier,location,expected_on,sku,quantity`, one line of a purchase order
per row; the rows of one `number` are one purchase order and must agree on its supplier,
location and date. A number that already exists is left as it is (sent again, a file
changes nothing). Every bad row is reported with its row number and field, and then
nothing is written.

Set-based, so that 50,000 lines take about as long as copying them into the database: the
rows are parsed and staged as text (COPY on PostgreSQL, executemany on SQLite), checked
with a few statements over the staged table (each bad row named with its field), and
written with one INSERT ... SELECT per table and one UPDATE of `incoming`
(inventory.services.supply). Python touches each row once, to parse it; keys that are not
plain ASCII are put in their normal form there (core.text, the one rule for keys).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from core.exceptions import DomainError
from core.text import TextRefused, code_normalise
from inventory.models import LOCATION_CODE_MAX_LENGTH, SKU_MAX_LENGTH
from inventory.services.supply import incoming_add_from
from supply.models import MAX_LINE_QUANTITY, NUMBER_MAX_LENGTH, PurchaseOrder

COLUMNS = ("number", "supplier", "location", "expected_on", "sku", "quantity")
MAX_ROWS = 100_000
MAX_ERRORS = 1_000
SUPPLIER_MAX_LENGTH = 255

# The keys of a row, their column's position in COLUMNS and their longest form.
_KEYS = (
    (0, "A purchase-order number", NUMBER_MAX_LENGTH),
    (2, "A location code", LOCATION_CODE_MAX_LENGTH),
    (4, "A SKU", SKU_MAX_LENGTH),
)
# What a row's first bad field is told; the checks run in this order (`_first_bad`).
_MESSAGES = {
    "number": f"A purchase-order number is needed (at most {NUMBER_MAX_LENGTH} characters).",
    "location": f"A location code is needed (at most {LOCATION_CODE_MAX_LENGTH} characters).",
    "sku": f"A SKU is needed (at most {SKU_MAX_LENGTH} characters).",
    "supplier": f"A supplier name of 1 to {SUPPLIER_MAX_LENGTH} characters.",
    "expected_on": "A date as YYYY-MM-DD.",
    "quantity": f"A whole number from 1 to {MAX_LINE_QUANTITY:,}.",
}


class ImportRejected(DomainError):
    """A purchase-order file with bad rows: nothing was written."""

    code = "import_rejected"

    def __init__(self, row_errors: list[dict]):
        self.row_errors = row_errors
        super().__init__(f"{len(row_errors)} row(s) rejected; nothing was written.", field="rows")


@dataclass
class Imported:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    lines: int = 0


def purchase_orders_import(*, text: str, actor: AbstractBaseUser | None = None) -> Imported:
    """Open every purchase order of a CSV file, or none (raise `ImportRejected`)."""
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    return _import(text=text, actor_id=actor_id)


def _error(row: int, column: str, message: str) -> dict:
    return {"row": row, "field": column, "message": message}


@transaction.atomic(durable=True)
def _import(*, text: str, actor_id: int | None) -> Imported:
    stage = _Stage()
    errors = stage.load(text)
    errors += stage.checked()
    if errors:
        errors.sort(key=lambda e: e["row"])
        # Raised inside the transaction: the staged tables go with it.
        raise ImportRejected(errors[:MAX_ERRORS])
    return stage.write(actor_id=actor_id)


def _date_valid(column: str) -> str:
    """SQL: the text is a real calendar date written YYYY-MM-DD."""
    if connection.vendor == "postgresql":
        # The pattern first (CASE keeps the order), so that the cast sees only well-formed
        # text; the day is then checked against its month's last day.
        return (
            f"CASE WHEN {column} ~ '^[1-9][0-9]{{3}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'"
            f" THEN CAST(substr({column}, 9, 2) AS integer) <= EXTRACT(DAY FROM"
            f" CAST(substr({column}, 1, 8) || '01' AS date) + INTERVAL '1 month'"
            " - INTERVAL '1 day') ELSE false END"
        )
    # With a modifier SQLite's date() rolls 2030-02-30 over to March; NULL for no date.
    return f"coalesce(date({column}, '+0 days') = {column}, 0)"


def _whole_number(column: str) -> str:
    """SQL: the text is 1 to 9 digits (so its cast cannot overflow)."""
    if connection.vendor == "postgresql":
        return f"{column} ~ '^[0-9]{{1,9}}$'"
    return f"(length({column}) BETWEEN 1 AND 9 AND {column} NOT GLOB '*[^0-9]*')"


def _first_bad() -> str:
    """SQL over `po_stage t` with its date `d` (`_dates`) and quantity `q` (`_quantities`)
    typed: the name of the row's first bad field, NULL for a good row."""
    return f"""CASE
        WHEN length(t.number) NOT BETWEEN 1 AND {NUMBER_MAX_LENGTH} THEN 'number'
        WHEN length(t.location) NOT BETWEEN 1 AND {LOCATION_CODE_MAX_LENGTH} THEN 'location'
        WHEN length(t.sku) NOT BETWEEN 1 AND {SKU_MAX_LENGTH} THEN 'sku'
        WHEN length(t.supplier) NOT BETWEEN 1 AND {SUPPLIER_MAX_LENGTH} THEN 'supplier'
        WHEN d.day IS NULL THEN 'expected_on'
        WHEN q.units IS NULL THEN 'quantity'
        END"""


# Each distinct date and quantity of `po_stage`, typed (NULL where the text is not one): a
# file holds far fewer of them than rows, and their patterns cost more than the join back.
# CASE keeps the order, so that a cast sees only text that passed its check; the fence
# (OFFSET) keeps the planner from moving the CASE out to be worked out once per row.
def _fence() -> str:
    return "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"


def _dates() -> str:
    return f"""SELECT v.expected_on,
        CASE WHEN {_date_valid("v.expected_on")} THEN CAST(v.expected_on AS DATE) END AS day
        FROM (SELECT DISTINCT expected_on FROM po_stage) v {_fence()}"""


def _quantities() -> str:
    return f"""SELECT v.quantity,
        CASE WHEN {_whole_number("v.quantity")} THEN
            CASE WHEN CAST(v.quantity AS INTEGER) BETWEEN 1 AND {MAX_LINE_QUANTITY}
            THEN CAST(v.quantity AS INTEGER) END
        END AS units
        FROM (SELECT DISTINCT quantity FROM po_stage) v {_fence()}"""


class _Stage:
    """One file in temporary tables of the current transaction: `po_stage` holds its rows
    as text, `po_line` every row typed, with its first bad field and its product's and
    location's ids, `po_head` each purchase order's first good row, `po_fresh` the purchase
    orders this file opened."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.cursor = connection.cursor()
        drop = " ON COMMIT DROP" if self.postgres else ""
        for name in ("po_fresh", "po_head", "po_line", "po_stage"):
            self.cursor.execute(f"DROP TABLE IF EXISTS {name}")
        # No keys: each table is read whole, by hash joins.
        self.cursor.execute(
            "CREATE TEMP TABLE po_stage (row_no INTEGER NOT NULL, number TEXT NOT NULL,"
            " supplier TEXT NOT NULL, location TEXT NOT NULL, expected_on TEXT NOT NULL,"
            f" sku TEXT NOT NULL, quantity TEXT NOT NULL){drop}"
        )
        self.cursor.execute(
            "CREATE TEMP TABLE po_line (row_no INTEGER NOT NULL, bad TEXT, number TEXT NOT"
            " NULL, supplier TEXT NOT NULL, location TEXT NOT NULL, location_id BIGINT,"
            " expected_on DATE, sku TEXT NOT NULL, product_id BIGINT, quantity INTEGER)"
            f"{drop}"
        )
        self.cursor.execute(
            "CREATE TEMP TABLE po_head (number TEXT NOT NULL, row_no INTEGER NOT NULL,"
            " supplier TEXT NOT NULL, location TEXT NOT NULL, location_id BIGINT,"
            f" expected_on DATE){drop}"
        )
        self.cursor.execute(
            f"CREATE TEMP TABLE po_fresh (number TEXT NOT NULL, id BIGINT NOT NULL){drop}"
        )

    def load(self, text: str) -> list[dict]:
        """Parse the file and stage its rows; return the errors found while parsing (the
        header, too many rows, keys with invisible or control characters)."""
        reader = csv.reader(io.StringIO(text))
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            return [_error(1, "header", f"Missing column(s): {', '.join(missing)}.")]
        at = [header.index(name) for name in COLUMNS]
        width = max(at) + 1
        errors: list[dict] = []
        staged = 0
        rows = self._rows(reader, at, width, errors)
        if self.postgres:
            with self.cursor.cursor.copy(
                "COPY po_stage (row_no, number, supplier, location, expected_on, sku, quantity)"
                " FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
                    staged += 1
        else:
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                if len(batch) == 5_000:
                    staged += self._insert(batch)
                    batch = []
            staged += self._insert(batch)
        if not staged and not errors:
            errors.append(_error(2, "rows", "The file has no purchase-order lines."))
        return errors

    def _insert(self, batch: list[tuple]) -> int:
        self.cursor.executemany(
            "INSERT INTO po_stage (row_no, number, supplier, location, expected_on, sku,"
            " quantity) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            batch,
        )
        return len(batch)

    @staticmethod
    def _rows(reader, at: list[int], width: int, errors: list[dict]):
        """Yield `(row number, the six cells trimmed)` for each row worth staging."""
        for row_no, row in enumerate(reader, start=2):
            joined = "".join(row)
            if not joined.strip():
                continue
            if row_no > MAX_ROWS + 1:
                errors.append(_error(row_no, "rows", f"At most {MAX_ROWS:,} rows per file."))
                return
            if len(row) < width:
                row = row + [""] * (width - len(row))
            cells = [row[i].strip() for i in at]
            if not (joined.isascii() and joined.isprintable()):
                # Rare: fold the keys to their normal form, refuse invisible characters.
                try:
                    for index, what, _ in _KEYS:
                        if cells[index]:
                            cells[index] = code_normalise(cells[index], what=what)
                except TextRefused as refused:
                    errors.append(_error(row_no, COLUMNS[index], str(refused)))
                    continue
            yield (row_no, *cells)

    def checked(self) -> list[dict]:
        """Check the staged rows in SQL; return every bad row with its field: a field
        that is not well formed, rows of one number that disagree on its supplier,
        location or date, a SKU twice on one number, an unknown location or SKU."""
        # One pass: each row's first bad field, its date and quantity typed, and the ids
        # of the product and location it names, so that nothing after looks a key up again.
        self.cursor.execute(
            f"""
            INSERT INTO po_line (row_no, bad, number, supplier, location, location_id,
                                 expected_on, sku, product_id, quantity)
            SELECT t.row_no, {_first_bad()}, t.number, t.supplier, t.location, c.id, d.day,
                   t.sku, p.id, q.units
            FROM po_stage t
            JOIN ({_dates()}) d ON d.expected_on = t.expected_on
            JOIN ({_quantities()}) q ON q.quantity = t.quantity
            LEFT JOIN inventory_location c ON c.code = t.location
            LEFT JOIN inventory_product p ON p.sku = t.sku"""
        )
        # Each purchase order as its first good row says it.
        self.cursor.execute(
            """
            INSERT INTO po_head (number, row_no, supplier, location, location_id, expected_on)
            SELECT l.number, l.row_no, l.supplier, l.location, l.location_id, l.expected_on
            FROM po_line l JOIN (SELECT number, MIN(row_no) AS row_no FROM po_line
                                 WHERE bad IS NULL GROUP BY number) f ON f.row_no = l.row_no"""
        )
        # Every bad row in one statement, as (row, field, what is wrong, value, other); a
        # row with several faults is told each, in this order.
        self.cursor.execute(
            """
            SELECT l.row_no, l.bad, 'form', CAST(NULL AS TEXT), CAST(NULL AS TEXT)
            FROM po_line l WHERE l.bad IS NOT NULL
            UNION ALL
            SELECT l.row_no, 'number', 'disagrees', l.number, CAST(h.row_no AS TEXT)
            FROM po_line l JOIN po_head h ON h.number = l.number
            WHERE l.bad IS NULL AND (l.supplier <> h.supplier OR l.location <> h.location
                                     OR l.expected_on <> h.expected_on)
            UNION ALL
            SELECT d.row_no, 'sku', 'twice', d.number, d.sku FROM (
                SELECT l.row_no, l.number, l.sku, ROW_NUMBER() OVER (
                    PARTITION BY l.number, l.sku ORDER BY l.row_no) AS nth
                FROM po_line l WHERE l.bad IS NULL) d
            WHERE d.nth > 1
            UNION ALL
            SELECT h.row_no, 'location', 'unknown', h.location, CAST(NULL AS TEXT)
            FROM po_head h WHERE h.location_id IS NULL
            UNION ALL
            SELECT l.row_no, 'sku', 'unknown', l.sku, CAST(NULL AS TEXT) FROM po_line l
            WHERE l.bad IS NULL AND l.product_id IS NULL"""
        )
        messages = {
            "disagrees": "{value} has another supplier, location or date on row {other}.",
            "twice": "{other} is on {value} twice.",
        }
        errors: list[dict] = []
        for row, column, wrong, value, other in self.cursor.fetchall():
            if wrong == "form":
                message = _MESSAGES[column]
            elif wrong == "unknown":
                what = "location" if column == "location" else "product with sku"
                message = f"No {what} '{value}'."
            else:
                message = messages[wrong].format(value=value, other=other)
            errors.append(_error(row, column, message))
        return errors

    def write(self, *, actor_id: int | None) -> Imported:
        """Open the purchase orders whose numbers are new, their lines and `incoming`."""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        # A number another file or request opened meanwhile is skipped, as one found here:
        # its lines are not added to it.
        table = PurchaseOrder._meta.db_table
        insert = f"""
            INSERT INTO {table}
                (number, supplier, location_id, expected_on, status, actor_id, created_at,
                 updated_at)
            SELECT h.number, h.supplier, h.location_id, h.expected_on, %s, %s, %s, %s
            FROM po_head h
            WHERE NOT EXISTS (SELECT 1 FROM {table} po WHERE po.number = h.number)
            ORDER BY h.row_no
            ON CONFLICT (number) DO NOTHING
            RETURNING number, id"""
        params = [PurchaseOrder.Status.OPEN, actor_id, now, now]
        if self.postgres:
            self.cursor.execute(
                f"WITH made AS ({insert}) INSERT INTO po_fresh (number, id)"
                " SELECT number, id FROM made",
                params,
            )
        else:
            # SQLite has no INSERT inside WITH: the few thousand ids come back and go in.
            self.cursor.execute(insert, params)
            self.cursor.executemany(
                "INSERT INTO po_fresh (number, id) VALUES (%s, %s)", self.cursor.fetchall()
            )
        self.cursor.execute(
            """
            INSERT INTO supply_purchaseorderline (purchase_order_id, product_id, quantity,
                                                  received)
            SELECT f.id, l.product_id, l.quantity, 0
            FROM po_line l JOIN po_fresh f ON f.number = l.number
            ORDER BY l.row_no"""
        )
        lines = self.cursor.rowcount
        if lines:
            incoming_add_from(
                select="SELECT l.product_id, l.location_id, l.quantity AS units"
                " FROM po_line l JOIN po_fresh f ON f.number = l.number"
            )
        self.cursor.execute(
            "SELECT h.number, n.id FROM po_head h"
            " LEFT JOIN po_fresh n ON n.number = h.number ORDER BY h.row_no"
        )
        created: list[str] = []
        existing: list[str] = []
        for number, fresh_id in self.cursor.fetchall():
            (created if fresh_id is not None else existing).append(number)
        return Imported(created=created, existing=sorted(existing), lines=lines)
