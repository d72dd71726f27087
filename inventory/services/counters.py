"""One statement that moves a stock counter on many rows, for the hot paths.

Order capture and reservations move `allocated` or `reserved` on several rows per order;
one UPDATE from a VALUES list does it in a single round trip, where an `F()` update per
row would cost one each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import connection

from inventory.models import StockLevel

# The counters a reservation, an allocation, a transfer or a purchase order moves; `on_hand`
# moves only with a ledger line.
COUNTERS = frozenset({"allocated", "reserved", "in_transit", "incoming"})


def counter_move(*, column: str, units_by_stock: Mapping[int, int], now: datetime) -> None:
    """Add `{stock id: signed units}` to `column` of stock rows this transaction holds."""
    if column not in COUNTERS:
        raise ValueError(f"{column} is not a counter moved in bulk.")
    if not units_by_stock:
        return
    table = StockLevel._meta.db_table
    rows = sorted(units_by_stock.items())
    values = ", ".join(["(%s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        # VALUES columns are column1, column2 on PostgreSQL and SQLite alike.
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + v.column2, updated_at = %s"
            f" FROM (VALUES {values}) AS v WHERE {table}.id = v.column1",
            [connection.ops.adapt_datetimefield_value(now), *(x for row in rows for x in row)],
        )
