"""Units put aside at a location: returned damaged, kept out of on hand and out of sale.

Quarantined units are not on hand (they were never put back), so no ledger line moves with
them; the counter is there so that they stay in sight on the stock page until someone
repairs, sends back or writes them off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from inventory.exceptions import InvalidQuantity
from inventory.models import StockLevel
from inventory.services.counters import column_add


def stock_quarantine_add(*, stock: StockLevel, quantity: int) -> None:
    """Put `quantity` units aside on a stock row the caller has locked."""
    if quantity <= 0:
        raise InvalidQuantity("A quarantined quantity must be positive.")
    StockLevel.objects.filter(pk=stock.pk).update(
        quarantined=F("quarantined") + quantity, updated_at=timezone.now()
    )
    stock.quarantined += quantity


def stock_quarantine_add_many(*, units: Mapping[StockLevel, int]) -> None:
    """Put units aside on many stock rows the caller has locked, in one statement."""
    if any(quantity <= 0 for quantity in units.values()):
        raise InvalidQuantity("A quarantined quantity must be positive.")
    column_add(
        column="quarantined",
        units_by_stock={stock.pk: quantity for stock, quantity in units.items()},
        now=timezone.now(),
    )
    for stock, quantity in units.items():
        stock.quarantined += quantity


def stock_quarantine_add_selected(*, select: str, params: Sequence[Any] = ()) -> None:
    """Put aside the units that `select` yields, `(stock_id, quantity)` on stock rows the
    caller has locked, in one statement however many (rows staged in the database)."""
    table = StockLevel._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET quarantined = {table}.quarantined + m.units, updated_at = %s "
            f"FROM (SELECT stock_id, sum(quantity) AS units FROM ({select}) x "
            f"WHERE quantity > 0 GROUP BY stock_id) m WHERE {table}.id = m.stock_id",
            [connection.ops.adapt_datetimefield_value(timezone.now()), *params],
        )
