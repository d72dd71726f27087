"""Units held for basket reservations: the `reserved` counter of stock rows.

The reservations themselves (orders.Reservation) belong to the order side; inventory
keeps the counter, so that it has one writer. `reserved` is the sum of the active
reservation lines of a row, expired ones included until they are released:
inventory.availability leaves the expired ones out, and inventory.reconcile checks the sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from inventory.moved import stock_changed
from inventory.services.counters import counter_move


def stock_reserve(*, units_by_stock: Mapping[int, int], now: datetime) -> None:
    """Raise `reserved` by `{stock id: units}` on rows this transaction holds locked."""
    _move(units_by_stock, sign=+1, now=now)


def stock_reservation_release(*, units_by_stock: Mapping[int, int], now: datetime) -> None:
    """Lower `reserved` by `{stock id: units}` on rows this transaction holds locked."""
    _move(units_by_stock, sign=-1, now=now)


def _move(units_by_stock: Mapping[int, int], *, sign: int, now: datetime) -> None:
    if not units_by_stock:
        return
    counter_move(
        column="reserved",
        units_by_stock={stock_id: sign * units for stock_id, units in units_by_stock.items()},
        now=now,
    )
    # Reserved units are not available: low-stock alerts are evaluated after commit.
    stock_changed(units_by_stock)
