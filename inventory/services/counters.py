"""One statement that moves a stock counter on many rows, for the hot paths.

Order capture and reservations move `allocated` or `reserved` on several rows per order;
one UPDATE from a VALUES list does it in a single round trip, where an `F()` update per
row would cost one each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from django.db import connection

from core.sql import Writes
from inventory.models import StockLevel

# The counters a reservation, an allocation, a transfer or a purchase order moves; `on_hand`
# moves only with a ledger line.
COUNTERS = frozenset({"allocated", "reserved", "in_transit", "incoming"})


def counter_move(
    *,
    column: str,
    units_by_stock: Mapping[int, int],
    now: datetime,
    writes: Writes | None = None,
) -> None:
    """Add `{stock id: signed units}` to `column` of stock rows this transaction holds;
    with `writes`, as a part of the caller's one statement (core.sql.Writes)."""
    if column not in COUNTERS:
        raise ValueError(f"{column} is not a counter moved in bulk.")
    column_add(column=column, units_by_stock=units_by_stock, now=now, writes=writes)


# Rows per UPDATE: two parameters each, far under the 65,535 a statement may hold.
CHUNK = 10_000


def column_add(
    *,
    column: str,
    units_by_stock: Mapping[int, int],
    now: datetime,
    writes: Writes | None = None,
) -> None:
    """Add `{stock id: signed units}` to `column`, one statement per 10,000 rows. For
    inventory's services only: the counters above, `on_hand` with its ledger lines
    (services.ledger), `quarantined` (services.quarantine)."""
    table = StockLevel._meta.db_table
    rows = sorted(units_by_stock.items())
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        # VALUES columns are column1, column2 on PostgreSQL and SQLite alike.
        sql = (
            f"UPDATE {table} SET {column} = {column} + v.column2, updated_at = %s"
            f" FROM (VALUES {values}) AS v WHERE {table}.id = v.column1"
        )
        params = [connection.ops.adapt_datetimefield_value(now), *(x for row in chunk for x in row)]
        if writes is not None:
            document = json.dumps([{"id": pk, "units": units} for pk, units in chunk])
            # The rows are found by their keys (`= ANY` on the primary key): joined to the
            # JSON rows alone, the plan PostgreSQL keeps for the prepared statement assumes
            # 100 of them and reads the whole stock table, on every order.
            writes.add(
                f"UPDATE {table} SET {column} = {column} + v.units, updated_at = %s"
                f" FROM json_to_recordset(%s) AS v(id bigint, units integer)"
                f" WHERE {table}.id = v.id AND {table}.id = ANY(ARRAY("
                f"SELECT (r->>'id')::bigint FROM json_array_elements(%s) r))",
                [now, document, document],
                plain=(sql, params),
            )
            continue
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
