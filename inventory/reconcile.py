"""Check the stock invariants set-based, for every stock row:

* on_hand = the sum of its ledger movements;
* allocated = the sum of its open allocations;
* reserved = the sum of its active reservation lines. Expired lines count until the sweep
  releases them: the availability rule (inventory.availability) takes them out, so the
  reserved units it counts are then exactly those of the unexpired lines.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection

from inventory.availability import reservation_lines

# What each balance is checked against, as a person reads it.
SOURCES = {
    "on_hand": "the ledger says",
    "allocated": "open allocations say",
    "reserved": "active reservations say",
}


@dataclass(frozen=True)
class Drift:
    stock_id: int
    sku: str
    location: str
    field: str  # "on_hand", "allocated" or "reserved"
    recorded: int
    expected: int

    def __str__(self) -> str:
        return (
            f"{self.sku} @ {self.location}: {self.field} is {self.recorded}, "
            f"{SOURCES[self.field]} {self.expected} ({self.recorded - self.expected:+d})"
        )


# One pass over each table, grouped, joined back to the balances: no Python loop over rows.
_DRIFT_SQL = """
WITH ledger AS (
    SELECT stock_id, SUM(quantity) AS total FROM inventory_stockmovement
    WHERE TRUE {rows} GROUP BY stock_id
), holds AS (
    SELECT stock_id, SUM(quantity) AS total FROM inventory_allocation
    WHERE status = 'open' {rows} GROUP BY stock_id
), held AS (
    SELECT stock_id, SUM(quantity) AS total FROM {reservation_lines}
    WHERE active {rows} GROUP BY stock_id
)
SELECT s.id, p.sku, l.code, s.on_hand, COALESCE(ledger.total, 0),
       s.allocated, COALESCE(holds.total, 0), s.reserved, COALESCE(held.total, 0)
FROM inventory_stocklevel s
JOIN inventory_product p ON p.id = s.product_id
JOIN inventory_location l ON l.id = s.location_id
LEFT JOIN ledger ON ledger.stock_id = s.id
LEFT JOIN holds ON holds.stock_id = s.id
LEFT JOIN held ON held.stock_id = s.id
WHERE (s.on_hand <> COALESCE(ledger.total, 0) OR s.allocated <> COALESCE(holds.total, 0)
       OR s.reserved <> COALESCE(held.total, 0)) {stock_rows}
ORDER BY s.id
"""


def stock_drift(*, stock_ids: Collection[int] | None = None) -> list[Drift]:
    """Return every stock row (or every one of `stock_ids`) whose balances disagree with
    its ledger, allocations or reservations."""
    rows, stock_rows, params = "", "", []
    if stock_ids is not None:
        ids = sorted(set(stock_ids))
        if not ids:
            return []
        marks = ", ".join(["%s"] * len(ids))
        rows, stock_rows = f"AND stock_id IN ({marks})", f"AND s.id IN ({marks})"
        # The three grouped sums, then the balances.
        params = ids * 4
    sql = _DRIFT_SQL.format(
        rows=rows, stock_rows=stock_rows, reservation_lines=reservation_lines()._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params or None)
        found_rows = cursor.fetchall()
    found: list[Drift] = []
    for stock_id, sku, code, *balances in found_rows:
        on_hand, ledger, allocated, holds, reserved, held = balances
        for field, recorded, expected in (
            ("on_hand", on_hand, ledger),
            ("allocated", allocated, holds),
            ("reserved", reserved, held),
        ):
            if recorded != expected:
                found.append(Drift(stock_id, sku, code, field, recorded, int(expected)))
    return found
