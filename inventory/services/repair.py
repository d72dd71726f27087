"""Set drifting stock counters back to what their rows say.

`allocated`, `reserved`, `in_transit` and `incoming` are sums kept for speed: the open
allocations and transfer holds, the active reservation lines, the shipped transfers and the
open purchase orders are the truth, so a counter that drifted from them can be set back
safely. `on_hand` is not: when it disagrees with the ledger, a person decides which is
wrong.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.locks import lock_stock_ids
from inventory.models import StockLevel
from inventory.moved import stock_changed
from inventory.reconcile import Drift, stock_drift
from inventory.services.counters import COUNTERS


@transaction.atomic(durable=True)
def stock_counters_repair() -> list[Drift]:
    """Set the counters of every drifting stock row to the sum of the rows behind them
    (inventory.reconcile). Return the drift repaired."""
    found = {item.stock_id for item in stock_drift() if item.field in COUNTERS}
    if not found:
        return []
    # Every writer of these counters holds the row's lock while it moves the counter and
    # its rows together: read the drift again under the locks, where it cannot move.
    lock_stock_ids(found)
    drift = [item for item in stock_drift(stock_ids=found) if item.field in COUNTERS]
    now = timezone.now()
    for item in drift:
        StockLevel.objects.filter(pk=item.stock_id).update(
            **{item.field: item.expected}, updated_at=now
        )
    # Available moved with the counters: low-stock alerts are evaluated after commit.
    stock_changed({item.stock_id for item in drift})
    return drift
