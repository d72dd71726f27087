"""What open purchase orders will still deliver, by SKU, location and date: the `incoming`
list of the availability endpoint (inventory.selectors.incoming_reader_register), and a
product's incoming and promised units day by day for the stock page's projection
(inventory.incoming.incoming_projection_register)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection

from inventory.incoming import IncomingDay
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


def incoming_days(
    product_id: int, location_ids: frozenset[int] | None, start: date, days: int
) -> list[IncomingDay]:
    """The product's units open purchase orders bring each day from `start` (overdue ones on
    `start`), and the open promises made against them on the same days."""
    end = start + timedelta(days=days - 1)
    where = ""
    params: list[int | str] = [product_id, end.isoformat()]
    if location_ids is not None:
        marks = ", ".join(["%s"] * len(location_ids)) or "NULL"
        where = f" AND po.location_id IN ({marks})"
        params += sorted(location_ids)
    open_po = "po.status IN ('open', 'partially_received')"
    # One round trip: column 0 counts what arrives, column 1 what is promised of it.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT 0, po.expected_on, SUM(pl.quantity - pl.received)
                FROM supply_purchaseorderline pl
                JOIN supply_purchaseorder po ON po.id = pl.purchase_order_id
                WHERE pl.product_id = %s AND po.expected_on <= %s AND {open_po}
                  AND pl.quantity > pl.received {where}
                GROUP BY po.expected_on
                UNION ALL
                SELECT 1, po.expected_on, SUM(pp.quantity)
                FROM supply_purchasepromise pp
                JOIN supply_purchaseorderline pl ON pl.id = pp.purchase_order_line_id
                JOIN supply_purchaseorder po ON po.id = pl.purchase_order_id
                WHERE pl.product_id = %s AND po.expected_on <= %s AND {open_po}
                  AND pp.status = 'open' {where}
                GROUP BY po.expected_on""",
            params + params,
        )
        rows = cursor.fetchall()
    by_day: dict[date, list[int]] = {start + timedelta(days=n): [0, 0] for n in range(days)}
    for column, expected_on, units in rows:
        by_day[max(_date(expected_on), start)][column] += int(units)
    return [IncomingDay(day, units[0], units[1]) for day, units in by_day.items()]


def _date(value) -> date:
    # SQLite answers a date column as text.
    return value if isinstance(value, date) else date.fromisoformat(value)
