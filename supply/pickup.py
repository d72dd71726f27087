"""Transfers that bring a click & collect order's units to its pickup store: what supply
answers through orders.pickup_transfers.

Capture asks for one transfer per source location, made by the transfer service like any
other (units held at `from`, `transfer.requested`), tied to the order and, line by line, to
the order lines it serves (`TransferForOrder`). Receiving such a transfer allocates the
units to those lines at the store. Cancelling the order cancels its transfers not yet
shipped; a shipped one carries on and its units join the store's stock when received.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import F, Sum

from inventory.models import Location, Product
from orders.models import Order, OrderEvent
from orders.pickup_transfers import Bound
from supply.locks import lock_transfer
from supply.models import Transfer, TransferForOrder
from supply.services.transfers import TransferLineInput, transfer_cancel_within, transfer_request


def pickup_transfers_request(
    order: Order, bound: Sequence[Bound], actor: Any, now: datetime
) -> list[OrderEvent]:
    """Request a transfer from each source to the order's pickup store for the bound units;
    return the timeline entries that tell it (not written)."""
    by_source: dict[int, list[Bound]] = defaultdict(list)
    for item in bound:
        by_source[item.source_id].append(item)
    sources = Location.objects.in_bulk(list(by_source))
    products = Product.objects.in_bulk({item.product_id for item in bound})
    store = order.pickup_location
    if store is None:
        raise ValueError(f"order {order.number} has no pickup store")
    events = []
    for source_id in sorted(by_source):
        items = by_source[source_id]
        units: dict[int, int] = defaultdict(int)
        for item in items:
            units[item.product_id] += item.units
        transfer = transfer_request(
            source=sources[source_id],
            destination=store,
            lines=[
                TransferLineInput(product=products[product_id], quantity=quantity)
                for product_id, quantity in sorted(units.items())
            ],
            reference=f"order {order.number}",
            actor=actor,
            order=order,
        )
        line_of = {line.product_id: line for line in transfer.lines.all()}
        TransferForOrder.objects.bulk_create(
            [
                TransferForOrder(
                    transfer_line=line_of[item.product_id],
                    order_line_id=item.order_line_id,
                    quantity=item.units,
                )
                for item in items
            ]
        )
        total = sum(units.values())
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.NOTE,
                # Customers read this: no internal location names.
                message=f"{total} item(s) are being brought to {store.name} for you; the "
                "order is ready for pickup once they arrive.",
                data={
                    "transfer": transfer.number,
                    "from": sources[source_id].code,
                    "to": store.code,
                    "units": total,
                },
                created_at=now,
            )
        )
    return events


def pickup_units_awaiting(order_id: int) -> dict[int, int]:
    """Return, per order line, the units the order's transfers not yet received still bring
    to its store."""
    rows = (
        TransferForOrder.objects.filter(
            order_line__order_id=order_id,
            transfer_line__transfer__status__in=[
                Transfer.Status.REQUESTED,
                Transfer.Status.SHIPPED,
            ],
        )
        .values("order_line_id")
        .annotate(units=Sum(F("quantity") - F("allocated")))
    )
    return {row["order_line_id"]: row["units"] for row in rows if row["units"] > 0}


def pickup_transfers_cancel(order: Order, actor: Any) -> None:
    """Cancel the order's transfers not yet shipped (the caller holds the order's lock)."""
    for transfer_id in (
        Transfer.objects.filter(order=order, status=Transfer.Status.REQUESTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        transfer_cancel_within(transfer=lock_transfer(transfer_id), actor=actor)


def pickup_sources_refused(order_id: int) -> set[int]:
    """Return the sources of the order's cancelled transfers."""
    return set(
        Transfer.objects.filter(order_id=order_id, status=Transfer.Status.CANCELLED).values_list(
            "source_id", flat=True
        )
    )
