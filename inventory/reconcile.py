"""Check the stock invariants set-based: on_hand = sum of movements, allocated = sum of
open allocations, for every stock row."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Drift:
    stock_id: int
    sku: str
    location: str
    field: str  # "on_hand" or "allocated"
    recorded: int
    expected: int

    def __str__(self) -> str:
        return (
            f"{self.sku} @ {self.location}: {self.field} is {self.recorded}, "
            f"{'the ledger says' if self.field == 'on_hand' else 'open allocations say'} "
            f"{self.expected} ({self.recorded - self.expected:+d})"
        )


# One pass over each table, grouped, joined back to the balances: no Python loop over rows.
_DRIFT_SQL = """
WITH ledger AS (
    SELECT stock_id, SUM(quantity) AS total FROM inventory_stockmovement GROUP BY stock_id
), holds AS (
    SELECT stock_id, SUM(quantity) AS total FROM inventory_allocation
    WHERE status = 'open' GROUP BY stock_id
)
SELECT s.id, p.sku, l.code, s.on_hand, COALESCE(ledger.total, 0),
       s.allocated, COALESCE(holds.total, 0)
FROM inventory_stocklevel s
JOIN inventory_product p ON p.id = s.product_id
JOIN inventory_location l ON l.id = s.location_id
LEFT JOIN ledger ON ledger.stock_id = s.id
LEFT JOIN holds ON holds.stock_id = s.id
WHERE s.on_hand <> COALESCE(ledger.total, 0) OR s.allocated <> COALESCE(holds.total, 0)
ORDER BY s.id
"""


def stock_drift() -> list[Drift]:
    """Return every stock row whose balances disagree with its ledger or allocations."""
    with connection.cursor() as cursor:
        cursor.execute(_DRIFT_SQL)
        rows = cursor.fetchall()
    found: list[Drift] = []
    for stock_id, sku, code, on_hand, ledger, allocated, holds in rows:
        if on_hand != ledger:
            found.append(Drift(stock_id, sku, code, "on_hand", on_hand, int(ledger)))
        if allocated != holds:
            found.append(Drift(stock_id, sku, code, "allocated", allocated, int(holds)))
    return found
