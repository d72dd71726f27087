"""Check the stock invariants set-based, for every stock row:

* on_hand = the sum of its ledger movements;
* allocated = the sum of its open allocations, plus the units other holders keep there
  (a transfer holds its units at the location it leaves from until it ships);
* reserved = the sum of its active reservation lines. Expired lines count until the sweep
  releases them: the availability rule (inventory.availability) takes them out, so the
  reserved units it counts are then exactly those of the unexpired lines;
* in_transit = the units of shipped transfers on their way to it, not yet received;
* incoming = the units open purchase orders will still deliver to it.

The rows behind `in_transit`, `incoming` and the transfer holds belong to an app above
inventory: it names them here from its `AppConfig.ready` (`counter_source_register`), as
SQL, so inventory imports none of it.
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
    "in_transit": "shipped transfers say",
    "incoming": "open purchase orders say",
}
FIELDS = tuple(SOURCES)

# column -> {name: SQL selecting (stock_id, total) columns named so}.
_sources: dict[str, dict[str, str]] = {"allocated": {}, "in_transit": {}, "incoming": {}}


def counter_source_register(*, column: str, name: str, sql: str) -> None:
    """Count the rows of `sql` in `column`: a SELECT of `stock_id` and `total` columns (one
    or more rows per stock row; they are summed). Registering a name again replaces it."""
    if column not in _sources:
        raise ValueError(f"{column} has no outside source.")
    _sources[column][name] = sql


@dataclass(frozen=True)
class Drift:
    stock_id: int
    sku: str
    location: str
    field: str  # one of FIELDS
    recorded: int
    expected: int

    def __str__(self) -> str:
        return (
            f"{self.sku} @ {self.location}: {self.field} is {self.recorded}, "
            f"{SOURCES[self.field]} {self.expected} ({self.recorded - self.expected:+d})"
        )


def _sums() -> dict[str, str]:
    """Return, per balance, SQL of `(stock_id, total)` rows before grouping."""
    sums = {
        "on_hand": "SELECT stock_id, quantity AS total FROM inventory_stockmovement",
        "allocated": "SELECT stock_id, quantity AS total FROM inventory_allocation"
        " WHERE status = 'open'",
        "reserved": f"SELECT stock_id, quantity AS total FROM {reservation_lines()._meta.db_table}"
        " WHERE active",
    }
    for column, sources in _sources.items():
        parts = ([sums[column]] if column in sums else []) + list(sources.values())
        # A balance nobody registers a source for must be 0 everywhere.
        sums[column] = " UNION ALL ".join(parts) or ("SELECT 0 AS stock_id, 0 AS total WHERE 1 = 0")
    return sums


def stock_drift(*, stock_ids: Collection[int] | None = None) -> list[Drift]:
    """Return every stock row (or every one of `stock_ids`) whose balances disagree with
    its ledger, allocations, reservations, transfers or purchase orders.

    One pass over each source, grouped, joined back to the balances: no Python loop over
    rows.
    """
    rows, stock_rows, ids = "", "", []
    if stock_ids is not None:
        ids = sorted(set(stock_ids))
        if not ids:
            return []
        marks = ", ".join(["%s"] * len(ids))
        rows, stock_rows = f"WHERE x.stock_id IN ({marks})", f"AND s.id IN ({marks})"
    sums = _sums()
    ctes = ",\n".join(
        f"c_{field} AS (SELECT x.stock_id, SUM(x.total) AS total FROM ({sums[field]}) x"
        f" {rows} GROUP BY x.stock_id)"
        for field in FIELDS
    )
    joins = "\n".join(f"LEFT JOIN c_{f} ON c_{f}.stock_id = s.id" for f in FIELDS)
    pairs = ", ".join(f"s.{f}, COALESCE(c_{f}.total, 0)" for f in FIELDS)
    differs = " OR ".join(f"s.{f} <> COALESCE(c_{f}.total, 0)" for f in FIELDS)
    sql = f"""WITH {ctes}
SELECT s.id, p.sku, l.code, {pairs}
FROM inventory_stocklevel s
JOIN inventory_product p ON p.id = s.product_id
JOIN inventory_location l ON l.id = s.location_id
{joins}
WHERE ({differs}) {stock_rows}
ORDER BY s.id"""
    params = ids * (len(FIELDS) + 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params or None)
        found_rows = cursor.fetchall()
    found: list[Drift] = []
    for stock_id, sku, code, *balances in found_rows:
        for index, field in enumerate(FIELDS):
            recorded, expected = balances[2 * index], balances[2 * index + 1]
            if recorded != expected:
                found.append(Drift(stock_id, sku, code, field, recorded, int(expected)))
    return found
