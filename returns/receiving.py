"""Receiving returns, set-based: one receipt from the API or the console and a 3PL's whole
file of returns go through the same statements, whatever their number of rows.

The received rows are staged in a temporary table (COPY on PostgreSQL, one executemany on
SQLite) and resolved there (return, product, receiving location), then checked in SQL, each
refusal naming its row and field: an unknown return or one not expected at the receiving
location, an unknown SKU or one not on the return, more units than the return still
expects, a return that takes no more units. Any refusal and nothing is written. Otherwise
receipts, receipt lines, stock (restock through the ledger, damaged into quarantine),
return lines and statuses are written by a handful of INSERT ... SELECT and UPDATE ... FROM,
and the timeline entries and `return.received` events from one read of the rows written.

Locks are taken in the house order: the orders (the returns' and their exchange orders) by
id, then the returns, then the stock rows by primary key. Every writer of a return or its
lines holds its order's lock first, so the return lines read after it are current.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from core.exceptions import DomainError
from core.sql import rows_converted
from inventory.locks import lock_stock_selected
from inventory.models import Location, Product, StockMovement
from inventory.services.ledger import movements_apply_selected
from inventory.services.quarantine import stock_quarantine_add_selected
from orders.locks import lock_order_ids
from orders.models import Order, OrderEvent, OrderLine
from outbox.emit import Draft, events_emit
from outbox.events import RETURN_RECEIVED, return_key
from returns.exchange import exchange_release_within
from returns.models import Return, ReturnLine, ReturnReceiptLine
from returns.representation import (
    LineFigures,
    ReturnColumns,
    refund_representation,
    return_body,
)
from returns.transitions import RETURN_TRANSITIONS

RS = Return.Status
Disposition = ReturnReceiptLine.Disposition

# The statuses a return is received in: those that may become partially received.
RECEIVING = frozenset(s for s, then in RETURN_TRANSITIONS.items() if RS.PARTIALLY_RECEIVED in then)


class ReceivedRow(NamedTuple):
    """One received line: units of a SKU of a return, and what becomes of them. `row` is
    the number a person knows it by (the file's row, the receipt's line). A tuple: a file
    makes ten thousand of them, and they are staged as they are."""

    row: int
    number: str
    sku: str
    quantity: int
    disposition: str


@dataclass(frozen=True)
class RowProblem:
    """Why a received row is refused. `conflict`: the return's state refuses it (a return
    closed or cancelled), not the row as sent."""

    row: int
    field: str
    message: str
    conflict: bool = False


class ReceiptRefused(DomainError):
    """Received rows refused: nothing was applied. `problems` names every refused row."""

    code = "receipt_refused"

    def __init__(self, problems: list[RowProblem]):
        self.problems = sorted(problems, key=lambda p: (p.row, p.field))
        super().__init__(f"{len(problems)} row(s) refused; nothing was applied.", field="rows")


# Staged rows per executemany on SQLite.
_CHUNK = 5_000
# Staged rows from which the planner is given their statistics.
_ANALYZED = 500
DISPOSITIONS = frozenset(Disposition.values)


def returns_receive_rows(
    *,
    rows: Sequence[ReceivedRow],
    at: Location | None,
    expected_at: Location | None = None,
    source: str,
    actor: AbstractBaseUser | None = None,
    problems: Sequence[RowProblem] = (),
    now: datetime | None = None,
) -> list[dict]:
    """Receive `rows` inside the caller's transaction, all or nothing, one receipt per
    return; return the received returns as the API answers them, by return id.

    `at`: where the units are received (None: each return where it is expected);
    `expected_at`: only returns expected there are known (a 3PL's file names only its own).
    `problems` already found in the rows (their format) are told with those found here.
    Raise `ReceiptRefused` naming every refused row; nothing is written then.
    """
    now = now or timezone.now()
    found = list(problems) + _row_checks(rows)
    if not rows:
        if found:
            raise ReceiptRefused(found)
        return []
    stage = _Stage()
    try:
        stage.load([r for r in rows if r.quantity >= 1 and r.disposition in DISPOSITIONS])
        stage.resolve(at=at, expected_at=expected_at)
        found += stage.unresolved(expected_at=expected_at)
        stage.lock_orders()
        refused_returns = stage.lock_returns()
        found += stage.refused_states(refused_returns)
        found += stage.over_received(refused_returns)
        if found:
            raise ReceiptRefused(found)
        stage.split()
        stage.receipts_write(source=source, actor=actor, now=now)
        stage.stock_move(actor=actor, now=now)
        stage.lines_count()
        stage.statuses_write(now=now)
        stage.timeline_write(actor=actor, now=now)
        answers = stage.announce(actor=actor)
    except BaseException:
        stage.cursor.close()
        raise
    stage.done()
    return answers


def _row_checks(rows: Sequence[ReceivedRow]) -> list[RowProblem]:
    found = []
    for row in rows:
        if row.quantity < 1:
            found.append(RowProblem(row.row, "quantity", "the quantity must be at least 1"))
        if row.disposition not in DISPOSITIONS:
            found.append(
                RowProblem(row.row, "disposition", f"unknown disposition {row.disposition!r}")
            )
    return found


def _least(a: str, b: str) -> str:
    # LEAST and GREATEST are PostgreSQL's; SQLite's min() and max() take two values instead.
    return f"CASE WHEN {a} < {b} THEN {a} ELSE {b} END"


def _greatest(a: str, b: str) -> str:
    return f"CASE WHEN {a} > {b} THEN {a} ELSE {b} END"


class _Stage:
    """The rows of one receiving in temporary tables, in the current transaction.

    `return_stage`: the rows as sent; `return_work`: each resolved to its return, product
    and receiving location, with `upto`, the units of its return and SKU up to and with it
    (rows in row order); `return_split`: each row spread over the return lines of its SKU,
    oldest line first, as many units as each still expects.
    """

    TABLES = ("return_stage", "return_work", "return_split")

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.cursor = connection.cursor()
        # Made once per database session and emptied at each commit: a receipt of a few
        # lines costs no catalog writes. Emptied first too: an earlier receiving may have
        # been refused in this same transaction (the caller went on).
        temp = "ON COMMIT DELETE ROWS" if self.postgres else ""
        self.cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS return_stage (row_no integer NOT NULL, "
            "number text NOT NULL, sku text NOT NULL, quantity integer NOT NULL, "
            f"disposition text NOT NULL) {temp}"
        )
        self.cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS return_work (row_no integer NOT NULL, "
            "number text NOT NULL, sku text NOT NULL, quantity integer NOT NULL, "
            "disposition text NOT NULL, return_id bigint, order_id bigint, product_id bigint, "
            f"location_id bigint, upto integer) {temp}"
        )
        self.cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS return_split (row_no integer NOT NULL, "
            "return_id bigint NOT NULL, return_line_id bigint NOT NULL, product_id bigint NOT "
            "NULL, location_id bigint NOT NULL, disposition text NOT NULL, quantity integer "
            f"NOT NULL) {temp}"
        )
        self.empty()
        self.rows = 0
        self.order_ids: set[int] = set()
        self.returns: dict[int, tuple[str, str, int | None]] = {}

    def empty(self) -> None:
        for table in self.TABLES:
            self.cursor.execute(f"DELETE FROM {table}")

    def done(self) -> None:
        # PostgreSQL empties the tables at commit; SQLite keeps their rows until told.
        if not self.postgres:
            self.empty()
        self.cursor.close()

    def load(self, rows: list[ReceivedRow]) -> None:
        self.rows = len(rows)
        # The rows are staged as they are: their fields are the table's columns, in order.
        columns = "row_no, number, sku, quantity, disposition"
        if self.postgres:
            with self.cursor.cursor.copy(f"COPY return_stage ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            for start in range(0, len(rows), _CHUNK):
                self.cursor.executemany(
                    f"INSERT INTO return_stage ({columns}) VALUES (%s, %s, %s, %s, %s)",
                    rows[start : start + _CHUNK],
                )

    def resolve(self, *, at: Location | None, expected_at: Location | None) -> None:
        """Resolve each row's return (only those expected at `expected_at`, if given),
        product and receiving location, and its running units per return and SKU."""
        only = "AND r.location_id = %s" if expected_at is not None else ""
        receiving = "%s" if at is not None else "r.location_id"
        params = [at.pk] if at is not None else []
        if expected_at is not None:
            params.append(expected_at.pk)
        self.cursor.execute(
            "INSERT INTO return_work (row_no, number, sku, quantity, disposition, return_id, "
            "order_id, product_id, location_id, upto) "
            f"SELECT t.row_no, t.number, t.sku, t.quantity, t.disposition, r.id, r.order_id, "
            f"p.id, {receiving}, sum(t.quantity) OVER (PARTITION BY r.id, p.id "
            "ORDER BY t.row_no ROWS UNBOUNDED PRECEDING) "
            f"FROM return_stage t LEFT JOIN returns_return r ON r.number = t.number {only} "
            "LEFT JOIN inventory_product p ON p.sku = t.sku",
            params,
        )
        if self.postgres and self.rows >= _ANALYZED:
            # Plans over a file's thousands of rows need their figures; a receipt's few
            # rows are planned as well without. Only the keys later statements join and
            # group by: the text columns (numbers, SKUs) are read for messages alone, and
            # sampling them cost ANALYZE three times as much.
            self.cursor.execute(
                "ANALYZE return_work (return_id, order_id, product_id, location_id)"
            )

    def unresolved(self, *, expected_at: Location | None) -> list[RowProblem]:
        """Rows naming no known return (or one not expected at `expected_at`), an unknown
        SKU, a return with nowhere to receive it, or an inactive receiving location."""
        self.cursor.execute(
            "SELECT w.row_no, w.number, w.sku, w.return_id, w.product_id, w.location_id, "
            "l.code, l.active FROM return_work w "
            "LEFT JOIN inventory_location l ON l.id = w.location_id "
            "WHERE w.return_id IS NULL OR w.product_id IS NULL OR w.location_id IS NULL "
            "OR NOT l.active"
        )
        where = f" expected at {expected_at.code}" if expected_at is not None else ""
        found = []
        for row, number, sku, return_id, product_id, location_id, code, active in self.cursor:
            if return_id is None:
                found.append(RowProblem(row, "return", f"no return {number}{where}"))
                continue
            if product_id is None:
                found.append(RowProblem(row, "sku", f"no product with SKU '{sku}'"))
            if location_id is None:
                found.append(RowProblem(row, "return", f"return {number} names no location"))
            elif not active:
                found.append(RowProblem(row, "location", f"{code} is not active"))
        return found

    def lock_orders(self) -> None:
        """Lock the returns' orders and exchange orders, by id."""
        self.cursor.execute(
            "SELECT order_id FROM return_work WHERE return_id IS NOT NULL UNION "
            "SELECT exchange_order_id FROM returns_return WHERE exchange_order_id IS NOT NULL "
            "AND id IN (SELECT return_id FROM return_work)"
        )
        self.order_ids = {order_id for (order_id,) in self.cursor.fetchall()}
        lock_order_ids(self.order_ids)

    def lock_returns(self) -> set[int]:
        """Lock the returns by id; return those whose status takes no more units."""
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        self.cursor.execute(
            "SELECT id, number, status, exchange_order_id FROM returns_return "
            f"WHERE id IN (SELECT return_id FROM return_work) ORDER BY id{lock}"
        )
        refused = set()
        for return_id, number, status, exchange_order_id in self.cursor.fetchall():
            self.returns[return_id] = (number, status, exchange_order_id)
            if status not in RECEIVING:
                refused.add(return_id)
        # An exchange order linked after the read above (a moment after its return was
        # made): locked now, still before any line or stock row.
        late = {x for _, _, x in self.returns.values() if x is not None} - self.order_ids
        if late:
            lock_order_ids(late)
            self.order_ids |= late
        return refused

    def refused_states(self, refused: set[int]) -> list[RowProblem]:
        """The first row of each return that takes no more units (closed, cancelled)."""
        if not refused:
            return []
        self.cursor.execute(
            "SELECT return_id, min(row_no) FROM return_work WHERE return_id IS NOT NULL "
            "GROUP BY return_id"
        )
        found = []
        for return_id, row in self.cursor.fetchall():
            if return_id in refused:
                number, status, _ = self.returns[return_id]
                label = RS(status).label.lower()
                found.append(
                    RowProblem(
                        row,
                        "return",
                        f"Return {number} is {label}: it takes no more units",
                        conflict=True,
                    )
                )
        return found

    def over_received(self, refused: set[int]) -> list[RowProblem]:
        """Rows of a SKU not on their return, or beyond the units it still expects (of the
        returns that take units at all)."""
        self.cursor.execute(
            "SELECT w.row_no, w.number, w.quantity, w.upto, e.outstanding, w.return_id "
            "FROM return_work w "
            "LEFT JOIN (SELECT return_request_id, product_id, "
            "sum(quantity - received) AS outstanding FROM returns_returnline "
            "WHERE return_request_id IN (SELECT return_id FROM return_work) "
            "GROUP BY return_request_id, product_id) e "
            "ON e.return_request_id = w.return_id AND e.product_id = w.product_id "
            "WHERE w.return_id IS NOT NULL AND w.product_id IS NOT NULL "
            "AND (e.outstanding IS NULL OR w.upto > e.outstanding)"
        )
        found = []
        for row, number, quantity, upto, outstanding, return_id in self.cursor.fetchall():
            if return_id in refused:
                continue
            if outstanding is None:
                found.append(RowProblem(row, "sku", f"not on return {number}"))
            else:
                left = max(outstanding - (upto - quantity), 0)
                found.append(
                    RowProblem(
                        row,
                        "quantity",
                        f"{quantity} received, but return {number} expects {left} more of it",
                    )
                )
        return found

    def split(self) -> None:
        """Spread each row over the return lines of its SKU, oldest line first: the overlap
        of the row's units (running, in row order) with each line's outstanding units."""
        row_start, line_start = "w.upto - w.quantity", "l.upto - l.outstanding"
        self.cursor.execute(
            "INSERT INTO return_split (row_no, return_id, return_line_id, product_id, "
            "location_id, disposition, quantity) "
            "SELECT w.row_no, w.return_id, l.id, w.product_id, w.location_id, w.disposition, "
            f"{_least('w.upto', 'l.upto')} - {_greatest(row_start, line_start)} "
            "FROM return_work w JOIN (SELECT id, return_request_id, product_id, "
            "quantity - received AS outstanding, sum(quantity - received) OVER (PARTITION BY "
            "return_request_id, product_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS upto "
            "FROM returns_returnline WHERE return_request_id IN "
            "(SELECT return_id FROM return_work)) l "
            "ON l.return_request_id = w.return_id AND l.product_id = w.product_id "
            f"AND {row_start} < l.upto AND {line_start} < w.upto"
        )
        if self.postgres and self.rows >= _ANALYZED:
            # The ledger, quarantine and counters below join these rows to stock and
            # returns: without their figures the planner expects a handful and loops.
            self.cursor.execute("ANALYZE return_split")

    def receipts_write(self, *, source: str, actor, now: datetime) -> None:
        """One receipt per return, then its lines."""
        at = connection.ops.adapt_datetimefield_value(now)
        self.cursor.execute(
            "INSERT INTO returns_returnreceipt (return_request_id, location_id, source, "
            "actor_id, created_at) SELECT return_id, min(location_id), %s, %s, %s "
            "FROM return_work GROUP BY return_id ORDER BY return_id "
            "RETURNING id, return_request_id, location_id",
            [source, _person_id(actor), at],
        )
        written = self.cursor.fetchall()
        self.received_at = {return_id: location_id for _, return_id, location_id in written}
        first = min(pk for pk, _, _ in written)
        # Receipts of these returns made before this one committed before its order lock
        # was taken: the ids from `first` on are this receiving's.
        self.cursor.execute(
            "INSERT INTO returns_returnreceiptline (receipt_id, return_line_id, quantity, "
            "disposition) SELECT c.id, s.return_line_id, s.quantity, s.disposition "
            "FROM return_split s JOIN returns_returnreceipt c "
            "ON c.return_request_id = s.return_id AND c.id >= %s "
            "ORDER BY s.row_no, s.return_line_id",
            [first],
        )

    def stock_move(self, *, actor, now: datetime) -> None:
        """Restocked units back on hand through the ledger (one line per return and SKU,
        referencing the return), damaged ones into quarantine; the stock rows locked first."""
        lock_stock_selected(
            "SELECT product_id, location_id FROM return_split WHERE disposition <> %s",
            [Disposition.DISPOSE],
        )
        stock = (
            "FROM return_split s JOIN inventory_stocklevel k "
            "ON k.product_id = s.product_id AND k.location_id = s.location_id "
        )
        movements_apply_selected(
            select=(
                "SELECT k.id AS stock_id, sum(s.quantity) AS quantity, "
                "'return ' || r.number AS reference, r.number AS ordinal "
                f"{stock}JOIN returns_return r ON r.id = s.return_id "
                "WHERE s.disposition = %s GROUP BY k.id, r.number"
            ),
            params=[Disposition.RESTOCK],
            kind=StockMovement.Kind.RETURN,
            actor=actor,
            at=now,
        )
        stock_quarantine_add_selected(
            select=f"SELECT k.id AS stock_id, s.quantity {stock}WHERE s.disposition = %s",
            params=[Disposition.DAMAGED],
        )

    def lines_count(self) -> None:
        """Count what each return line received, by disposition (the CHECK constraints
        judge the new figures: never more than the line's units)."""
        line = ReturnLine._meta.db_table
        self.cursor.execute(
            f"UPDATE {line} SET restocked = {line}.restocked + a.restocked, "
            f"damaged = {line}.damaged + a.damaged, disposed = {line}.disposed + a.disposed, "
            f"received = {line}.received + a.restocked + a.damaged + a.disposed "
            "FROM (SELECT return_line_id, "
            "sum(CASE WHEN disposition = %s THEN quantity ELSE 0 END) AS restocked, "
            "sum(CASE WHEN disposition = %s THEN quantity ELSE 0 END) AS damaged, "
            "sum(CASE WHEN disposition = %s THEN quantity ELSE 0 END) AS disposed "
            f"FROM return_split GROUP BY return_line_id) a WHERE {line}.id = a.return_line_id",
            [Disposition.RESTOCK, Disposition.DAMAGED, Disposition.DISPOSE],
        )

    def statuses_write(self, *, now: datetime) -> None:
        """Received when every line has all its units, else partially received."""
        at = connection.ops.adapt_datetimefield_value(now)
        self.cursor.execute(
            "UPDATE returns_return SET status = CASE WHEN EXISTS (SELECT 1 FROM "
            "returns_returnline l WHERE l.return_request_id = returns_return.id "
            "AND l.received < l.quantity) THEN %s ELSE %s END, received_at = %s, updated_at = %s "
            "WHERE id IN (SELECT return_id FROM return_work)",
            [RS.PARTIALLY_RECEIVED, RS.RECEIVED, at, at],
        )

    def timeline_write(self, *, actor, now: datetime) -> None:
        """One timeline entry per receipt, on the return's order, in one INSERT ... SELECT."""
        self.cursor.execute(
            "INSERT INTO orders_orderevent (order_id, kind, message, data, public, actor_id, "
            "created_at) SELECT r.order_id, %s, 'Return ' || r.number || ': ' || a.units || "
            "' unit(s) received at ' || l.name || '.', "
            f"{_json_object()}('return', r.number, 'location', l.code, 'units', a.units, "
            "'restocked', a.restocked), %s, %s, %s "
            "FROM (SELECT return_id, location_id, sum(quantity) AS units, "
            "sum(CASE WHEN disposition = %s THEN quantity ELSE 0 END) AS restocked "
            "FROM return_split GROUP BY return_id, location_id) a "
            "JOIN returns_return r ON r.id = a.return_id "
            "JOIN inventory_location l ON l.id = a.location_id ORDER BY r.id",
            [
                OrderEvent.Kind.RETURN_RECEIVED,
                True,
                _person_id(actor),
                connection.ops.adapt_datetimefield_value(now),
                Disposition.RESTOCK,
            ],
        )

    def announce(self, *, actor) -> list[dict]:
        """Write each receipt's `return.received` event and release the exchange orders of
        returns now received in full; return the returns' answers.

        The returns and all their lines are read as plain rows, two statements for any
        number of returns, and drawn by `return_body`, the one drawing of a return."""
        self.cursor.execute(
            "SELECT l.return_request_id, p.sku, l.quantity, l.received, l.restocked, "
            "l.damaged, l.disposed, l.reason, o.unit_price FROM returns_returnline l "
            "JOIN inventory_product p ON p.id = l.product_id "
            "JOIN orders_orderline o ON o.id = l.order_line_id "
            "WHERE l.return_request_id IN (SELECT return_id FROM return_work) "
            "ORDER BY l.return_request_id, l.line_no"
        )
        lines: dict[int, list[LineFigures]] = defaultdict(list)
        figures = LineFigures._make
        for row in rows_converted(_LINE_COLUMNS, self.cursor.fetchall()):
            lines[row[0]].append(figures(row[1:]))
        self.cursor.execute(
            "SELECT r.id, r.number, r.status, r.method, r.resolution, r.created_at, "
            "r.updated_at, r.currency, r.exchange_order_id, o.number, o.shipping_price, "
            "l.code, x.number FROM returns_return r JOIN orders_order o ON o.id = r.order_id "
            "LEFT JOIN inventory_location l ON l.id = r.location_id "
            "LEFT JOIN orders_order x ON x.id = r.exchange_order_id "
            "WHERE r.id IN (SELECT return_id FROM return_work) ORDER BY r.id"
        )
        answers, drafts, released = [], [], []
        for row in rows_converted(_RETURN_COLUMNS, self.cursor.fetchall()):
            return_id, columns = row[0], ReturnColumns._make(row[1:7])
            currency, exchange_order_id, order_number, shipping_price, code, exchange = row[7:]
            figures_of_return = lines[return_id]
            body = return_body(
                columns,
                order_number=order_number,
                location_code=code,
                exchange_number=exchange,
                lines=figures_of_return,
                # A return being received has no refund yet: a refund closes it.
                refund=refund_representation(
                    status=columns.status,
                    resolution=columns.resolution,
                    currency=currency,
                    lines=figures_of_return,
                    shipping_price=shipping_price,
                    refund=None,
                ),
            )
            at = self.received_at[return_id]
            drafts.append(Draft(RETURN_RECEIVED, body, at, return_key(return_id)))
            answers.append(body)
            if columns.status == RS.RECEIVED and exchange_order_id is not None:
                released.append((columns.number, exchange_order_id))
        for number, exchange_order_id in released:
            exchange_release_within(number=number, exchange_order_id=exchange_order_id, actor=actor)
        events_emit(drafts=drafts)
        return answers


# What the two reads of `announce` select, column by column (for the values' conversion).
_LINE = ("quantity", "received", "restocked", "damaged", "disposed", "reason")
_LINE_COLUMNS = (
    (ReturnLine, "return_request_id"),
    (Product, "sku"),
    *((ReturnLine, name) for name in _LINE),
    (OrderLine, "unit_price"),
)
_RETURN = ("id", "number", "status", "method", "resolution", "created_at", "updated_at")
_RETURN_COLUMNS = (
    *((Return, name) for name in (*_RETURN, "currency", "exchange_order_id")),
    (Order, "number"),
    (Order, "shipping_price"),
    (Location, "code"),
    (Order, "number"),
)


def _json_object() -> str:
    # The same function under two names; PostgreSQL's makes the column's type directly.
    return "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"


def _person_id(actor: AbstractBaseUser | None) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None
