"""The rows behind the stock counters that supply keeps, as inventory's reconciliation reads
them (inventory.reconcile.counter_source_register)."""

from __future__ import annotations

from inventory.reconcile import counter_source_register

# A transfer requested and not yet shipped holds its units at the location it leaves from.
TRANSFER_HOLDS = """
SELECT s.id AS stock_id, tl.quantity AS total
FROM supply_transferline tl
JOIN supply_transfer t ON t.id = tl.transfer_id
JOIN inventory_stocklevel s ON s.product_id = tl.product_id AND s.location_id = t.source_id
WHERE t.status = 'requested'
"""

# A shipped transfer counts the units not yet received at the location it goes to.
TRANSFERS_ON_THE_WAY = """
SELECT s.id AS stock_id, tl.quantity - tl.received AS total
FROM supply_transferline tl
JOIN supply_transfer t ON t.id = tl.transfer_id
JOIN inventory_stocklevel s ON s.product_id = tl.product_id AND s.location_id = t.destination_id
WHERE t.status = 'shipped'
"""

# An open purchase order counts the units it still expects at its location.
PURCHASES_EXPECTED = """
SELECT s.id AS stock_id,
       CASE WHEN pl.quantity > pl.received THEN pl.quantity - pl.received ELSE 0 END AS total
FROM supply_purchaseorderline pl
JOIN supply_purchaseorder po ON po.id = pl.purchase_order_id
JOIN inventory_stocklevel s ON s.product_id = pl.product_id AND s.location_id = po.location_id
WHERE po.status IN ('open', 'partially_received')
"""


def counters_register() -> None:
    counter_source_register(column="allocated", name="transfers", sql=TRANSFER_HOLDS)
    counter_source_register(column="in_transit", name="transfers", sql=TRANSFERS_ON_THE_WAY)
    counter_source_register(column="incoming", name="purchase orders", sql=PURCHASES_EXPECTED)
