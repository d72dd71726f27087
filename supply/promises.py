"""Promising incoming units to order lines the shelves could not fill (available to promise
in time): the promiser order capture calls through inventory.incoming.

The open lines of open purchase orders for the products asked, at the locations that may
serve the order, are locked in pk order (after the stock rows capture holds); what each
still expects less what is already promised from it is promised, earliest expected date
first. Two captures asking for the same units wait for each other on those locks.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from django.db import connection

from inventory.incoming import Free, Promised, Shortfall, incoming_take, preorder_room
from inventory.selectors import Candidates
from orders.models import Order
from orders.services.allocation import lines_wanting, order_candidates
from orders.services.delivery_options import incoming_promise_date
from orders.services.promised import order_promise_move
from supply.models import PurchaseOrder, PurchasePromise

# A promise holds units while its order still waits: a cancelled order, or one the shelves
# served meanwhile, lets them go without anyone writing to the promise.
WAITING = """EXISTS (SELECT 1 FROM orders_orderline ol JOIN orders_order o ON o.id = ol.order_id
    WHERE ol.id = pp.order_line_id AND o.status IN ('backordered', 'partially_allocated'))"""


# The units a purchase-order line `pl` still expects that no waiting order was promised.
FREE = f"""pl.quantity - pl.received - COALESCE(
    (SELECT SUM(pp.quantity) FROM supply_purchasepromise pp
     WHERE pp.purchase_order_line_id = pl.id AND pp.status = 'open' AND {WAITING}), 0)"""
# The open lines of open purchase orders, `po` at location `l`.
OPEN_LINES = """FROM supply_purchaseorderline pl
    JOIN supply_purchaseorder po ON po.id = pl.purchase_order_id
    JOIN inventory_location l ON l.id = po.location_id
    WHERE pl.quantity > pl.received AND po.status IN ('open', 'partially_received')"""


def incoming_units_promise(
    shortfalls: Sequence[Shortfall], candidates: Candidates
) -> list[Promised]:
    product_ids = sorted({s.product_id for s in shortfalls})
    room = _preorder_room_lock(product_ids)
    condition, params = candidates.sql()
    marks = ", ".join(["%s"] * len(product_ids))
    with connection.cursor() as cursor:
        # Lock first (pk order), then read what is already promised under the locks.
        lock = " FOR UPDATE OF pl" if connection.features.has_select_for_update_of else ""
        cursor.execute(
            f"""SELECT pl.id {OPEN_LINES}
                  AND pl.product_id IN ({marks}) AND {condition}
                ORDER BY pl.id{lock}""",
            [*product_ids, *params],
        )
        line_ids = [row[0] for row in cursor.fetchall()]
        if not line_ids:
            return []
        ids = ", ".join(["%s"] * len(line_ids))
        cursor.execute(
            f"""SELECT pl.id, pl.product_id, po.location_id, po.expected_on, {FREE}
                FROM supply_purchaseorderline pl
                JOIN supply_purchaseorder po ON po.id = pl.purchase_order_id
                WHERE pl.id IN ({ids})
                ORDER BY po.expected_on, pl.id""",
            line_ids,
        )
        free = [Free(*row) for row in cursor.fetchall()]
    promises: list[PurchasePromise] = []
    promised: list[Promised] = []
    # A pre-order product's cap bounds what its lines may be promised, in their order.
    for shortfall, line, units in incoming_take(shortfalls, free, room):
        promises.append(
            PurchasePromise(
                purchase_order_line_id=line.line_id,
                order_line_id=shortfall.order_line_id,
                quantity=units,
            )
        )
        promised.append(
            Promised(shortfall.order_line_id, line.location_id, line.expected_on, units)
        )
    PurchasePromise.objects.bulk_create(promises)
    return promised


def _preorder_room_lock(product_ids: list[int]) -> dict[int, int]:
    """Lock the pre-order products among these (pk order) and return, for each, how many
    more units its cap lets us promise."""
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_update else ""
    marks = ", ".join(["%s"] * len(product_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT id, preorder_cap FROM inventory_product
                WHERE id IN ({marks}) AND preorder ORDER BY id{lock}""",
            product_ids,
        )
        caps = dict(cursor.fetchall())
    return preorder_room(caps=caps)


def preorder_promised_total(product_ids: Collection[int]) -> dict[int, int]:
    """Return, per product, the incoming units promised to orders not cancelled: open
    promises whose order still waits, and promises a receipt fulfilled (the figure a
    pre-order cap bounds; inventory.incoming.incoming_promised_total)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT pl.product_id, SUM(pp.quantity)
                FROM supply_purchasepromise pp
                JOIN supply_purchaseorderline pl ON pl.id = pp.purchase_order_line_id
                WHERE pl.product_id IN ({marks}) AND (
                    (pp.status = 'open' AND {WAITING})
                    OR (pp.status = 'fulfilled' AND EXISTS (
                        SELECT 1 FROM orders_orderline ol JOIN orders_order o ON o.id = ol.order_id
                        WHERE ol.id = pp.order_line_id AND o.status <> 'cancelled')))
                GROUP BY pl.product_id""",
            ids,
        )
        return {product_id: int(units) for product_id, units in cursor.fetchall()}


def incoming_units_free(product_ids: Sequence[int], candidates: Candidates) -> list[Free]:
    """Return the incoming units of these products at the candidate locations that no
    waiting order was promised, earliest expected first: what a quote may offer. Reads
    without locks; the promise at capture takes them under the lines' locks."""
    condition, params = candidates.sql()
    ids = sorted(set(product_ids))
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT pl.id, pl.product_id, po.location_id, po.expected_on, {FREE}
                {OPEN_LINES} AND pl.product_id IN ({marks}) AND {condition}
                ORDER BY po.expected_on, pl.id""",
            [*ids, *params],
        )
        return [Free(*row) for row in cursor.fetchall() if row[4] > 0]


def promises_release(order_line_id: int, keep: int) -> int:
    """Release the line's open promises beyond `keep` units, newest first (a smaller one
    shrinks); return the units released (inventory.incoming.incoming_release). The promise
    rows are locked: a receipt marking them fulfilled meanwhile waits, or goes first."""
    promises = list(
        PurchasePromise.objects.select_for_update()
        .filter(order_line_id=order_line_id, status=PurchasePromise.Status.OPEN)
        .order_by("-id")
    )
    excess = sum(promise.quantity for promise in promises) - keep
    released = 0
    for promise in promises:
        if excess <= 0:
            break
        if promise.quantity <= excess:
            promise.status = PurchasePromise.Status.RELEASED
            promise.save(update_fields=["status", "updated_at"])
            units = promise.quantity
        else:
            promise.quantity -= excess
            promise.save(update_fields=["quantity", "updated_at"])
            units = excess
        excess -= units
        released += units
    return released


def purchase_promises_fulfil(*, line_ids_units: dict[int, int]) -> list[int]:
    """Mark the open promises of these purchase-order lines fulfilled for the units just
    received, oldest first; return the ids of their orders, oldest promise first. The caller
    holds the purchase order's lock."""
    orders: list[int] = []
    waiting = (
        PurchasePromise.objects.filter(
            purchase_order_line_id__in=line_ids_units,
            status=PurchasePromise.Status.OPEN,
            order_line__order__status__in=["backordered", "partially_allocated"],
        )
        .select_related("order_line")
        .order_by("id")
    )
    left = dict(line_ids_units)
    done = []
    for promise in waiting:
        if left[promise.purchase_order_line_id] <= 0:
            continue
        left[promise.purchase_order_line_id] -= promise.quantity
        done.append(promise.pk)
        if promise.order_line.order_id not in orders:
            orders.append(promise.order_line.order_id)
    PurchasePromise.objects.filter(pk__in=done).update(status=PurchasePromise.Status.FULFILLED)
    return orders


def promises_waiting_order_ids(purchase_order: PurchaseOrder) -> list[int]:
    """Return the waiting orders promised units of this purchase order, ids ascending."""
    return list(
        Order.objects.filter(
            status__in=[Order.Status.BACKORDERED, Order.Status.PARTIALLY_ALLOCATED],
            lines__purchase_promises__purchase_order_line__purchase_order=purchase_order,
            lines__purchase_promises__status=PurchasePromise.Status.OPEN,
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def promises_redate(*, purchase_order: PurchaseOrder, actor: Any) -> list[int]:
    """Date again the waiting orders promised units of this purchase order (its expected
    date moved): each order's date is that of the latest supply it waits for. Tell each
    order whose date changed (timeline, `order.promise_changed`). Return their ids."""
    changed = []
    for order in Order.objects.filter(pk__in=promises_waiting_order_ids(purchase_order)).order_by(
        "pk"
    ):
        new = _supply_date(order)
        if new is None:
            continue
        if order_promise_move(
            order=order,
            to=new,
            message=f"The delivery date moved to {new.isoformat()}: incoming supply is now "
            f"expected on {purchase_order.expected_on.isoformat()}.",
            data={"purchase_order": purchase_order.number},
            actor=actor,
        ):
            changed.append(order.pk)
    return changed


def promises_withdraw(
    *, purchase_order: PurchaseOrder, orders: Sequence[Order], actor: Any
) -> list[int]:
    """Release what a cancelled purchase order promised to these orders (the waiting ones
    it promised units, locked by the caller), promise their units again from other open
    purchase orders where some are free, as capture would, and date each order again: by
    the supply it now waits for, or no date when some of its units nothing serves. Tell
    each order whose date changed. Return their ids.

    The caller holds the purchase order's lock, then the orders', and has moved its stock
    rows' `incoming`: the promise locks products and purchase-order lines after them, as
    capture does."""
    released = list(
        PurchasePromise.objects.select_for_update(of=("self",))
        .filter(
            purchase_order_line__purchase_order=purchase_order,
            status=PurchasePromise.Status.OPEN,
        )
        .select_related("purchase_order_line")
        .order_by("pk")
    )
    PurchasePromise.objects.filter(pk__in=[p.pk for p in released]).update(
        status=PurchasePromise.Status.RELEASED
    )
    changed = []
    for order in orders:
        lines = set(order.lines.values_list("pk", flat=True))
        shortfalls = [
            Shortfall(p.order_line_id, p.purchase_order_line.product_id, p.quantity)
            for p in released
            if p.order_line_id in lines
        ]
        incoming_units_promise(
            shortfalls,
            order_candidates(
                channel=order.channel,
                delivery_method=order.delivery_method,
                pickup_location_id=order.pickup_location_id,
            ),
        )
        new = _supply_date(order)
        if new == order.promised_date:
            continue
        message = (
            f"The delivery date moved to {new.isoformat()}: supply expected for the order "
            "was cancelled, other supply takes its place."
            if new is not None
            else "The delivery date is not known any more: supply expected for the order "
            "was cancelled, and no other is on order yet."
        )
        if order_promise_move(
            order=order,
            to=new,
            message=message,
            data={"purchase_order": purchase_order.number, "cancelled": True},
            actor=actor,
        ):
            changed.append(order.pk)
    return changed


def _supply_date(order: Order) -> date | None:
    """Return the day the incoming supply a waiting order is promised reaches it; None when
    some of its units nothing serves (a pre-order beyond its cap: no date, as at capture)
    or the supply cannot be dated."""
    promises = PurchasePromise.objects.filter(
        order_line__order=order, status=PurchasePromise.Status.OPEN
    )
    _, wants = lines_wanting(order)
    if sum(promises.values_list("quantity", flat=True)) < sum(w.quantity for w in wants):
        return None
    supply = list(
        promises.values_list(
            "purchase_order_line__purchase_order__location_id",
            "purchase_order_line__purchase_order__expected_on",
        )
    )
    return incoming_promise_date(
        method=order.delivery_method, supply=supply, lat=order.ship_lat, lon=order.ship_lon
    )
