"""What open purchase orders will still deliver, by SKU, location and date: the `incoming`
list of the availability endpoint (inventory.selectors.incoming_reader_register)."""

from __future__ import annotations

from django.db import connection

from inventory.selectors import channel_serves_sql


def incoming_by_date(skus: list[str], channel=None) -> dict[str, list[dict]]:
    """Return `{sku: [{"location", "date", "quantity"}, ...]}`, earliest first, of the units
    open purchase orders still expect at active locations (those serving `channel`)."""
    if not skus:
        return {}
    marks = ", ".join(["%s"] * len(skus))
    where, params = [f"p.sku IN ({marks})"], list(skus)
    if channel is not None:
        serves, serves_params = channel_serves_sql(channel, "l.id")
        where.append(serves)
        params += serves_params
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT p.sku, l.code, po.expected_on, SUM(pl.quantity - pl.received)
                FROM supply_purchaseorderline pl
                JOIN supply_purchaseorder po ON po.id = pl.purchase_order_id
                JOIN inventory_product p ON p.id = pl.product_id
                JOIN inventory_location l ON l.id = po.location_id
                WHERE po.status IN ('open', 'partially_received') AND l.active
                  AND pl.quantity > pl.received AND {" AND ".join(where)}
                GROUP BY p.sku, l.code, po.expected_on
                ORDER BY p.sku, po.expected_on, l.code""",
            params,
        )
        rows = cursor.fetchall()
    found: dict[str, list[dict]] = {}
    for sku, code, expected_on, units in rows:
        found.setdefault(sku, []).append(
            {"location": code, "date": _iso(expected_on), "quantity": int(units)}
        )
    return found


def _iso(value) -> str:
    # SQLite answers a date column as text already.
    return value if isinstance(value, str) else value.isoformat()
