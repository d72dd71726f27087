"""Units put aside at a location: returned damaged, kept out of on hand and out of sale.

Quarantined units are not on hand (they were never put back), so no ledger line moves with
them; the counter is there so that they stay in sight on the stock page until someone
repairs, sends back or writes them off.
"""

from __future__ import annotations

from collections.abc import Mapping

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
