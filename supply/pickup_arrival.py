"""Receipts and shipments of transfers that bring a click & collect order's units to its
pickup store (supply.pickup requests them): the order hears of each step, and on receipt
the units are allocated to it at the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import F, Sum

from inventory.models import Allocation
from orders.models import Order, OrderEvent
from orders.services.pickup_transfers import pickup_units_allocate
from supply.models import Transfer, TransferForOrder, TransferLine

# An order still waiting for its units: a cancelled or collected one takes none.
WAITING = (Order.Status.ALLOCATED, Order.Status.PARTIALLY_ALLOCATED, Order.Status.BACKORDERED)


def pickup_transfer_arrived(*, transfer: Transfer, received: Mapping[int, int], actor: Any) -> None:
    """Allocate units just received at the store to the order lines the transfer serves,
    as many as each still lacks. The caller holds the order's lock, then the transfer's.
    Units of a cancelled or already served order stay in the store's stock."""
    order = _order_of(transfer)
    if order.status not in WAITING:
        return
    lacking = _lacking(order)
    units_by_line: dict[int, int] = {}
    bound = (
        TransferForOrder.objects.filter(transfer_line__transfer=transfer)
        .select_related("transfer_line")
        .order_by("pk")
    )
    left = dict(received)
    for share in bound:
        product_id = share.transfer_line.product_id
        units = min(
            left.get(product_id, 0),
            share.quantity - share.allocated,
            lacking.get(share.order_line_id, 0),
        )
        if units <= 0:
            continue
        left[product_id] -= units
        lacking[share.order_line_id] -= units
        units_by_line[share.order_line_id] = units_by_line.get(share.order_line_id, 0) + units
        TransferForOrder.objects.filter(pk=share.pk).update(allocated=F("allocated") + units)
    pickup_units_allocate(
        order=order, units_by_line=units_by_line, transfer_number=transfer.number, actor=actor
    )


def _order_of(transfer: Transfer) -> Order:
    return Order.objects.select_related("pickup_location").get(pk=transfer.order_id or 0)


def _lacking(order: Order) -> dict[int, int]:
    """Units each line still wants and has no allocation (open or shipped) for."""
    held = dict(
        Allocation.objects.holding()
        .filter(order_line__order=order)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    return {
        line.pk: line.quantity_open - held.get(line.pk, 0)
        for line in order.lines.all()
        if line.quantity_open - held.get(line.pk, 0) > 0
    }


def pickup_transfer_shipped(*, transfer: Transfer, actor: Any) -> None:
    """Tell the order that its items left for the store (timeline)."""
    order = _order_of(transfer)
    if order.status not in WAITING or order.pickup_location is None:
        return
    units = TransferLine.objects.filter(transfer=transfer).aggregate(n=Sum("quantity"))["n"]
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        message=f"{units} item(s) left for {order.pickup_location.name}.",
        data={"transfer": transfer.number, "shipped": units},
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
