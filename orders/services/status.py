"""An order's status follows from its lines, allocations and fulfilments."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Sum

from fulfilment.models import Fulfilment
from inventory.models import Allocation
from orders.events import order_event_add
from orders.models import Order, OrderEvent
from orders.pickup_transfers import pickup_units_awaiting
from orders.transitions import order_ensure_can_become

S = Order.Status
FINAL = {S.CANCELLED, S.COLLECTED, S.DELIVERED}


def order_status_derive(order: Order) -> str:
    """Return the status the order's lines, allocations and fulfilments say it has."""
    totals = order.lines.aggregate(
        quantity=Sum("quantity"),
        cancelled=Sum("quantity_cancelled"),
        shipped=Sum("quantity_shipped"),
    )
    wanted = (totals["quantity"] or 0) - (totals["cancelled"] or 0)
    shipped = totals["shipped"] or 0
    if wanted <= 0:
        return S.CANCELLED
    held = (
        Allocation.objects.open().filter(order_line__order=order).aggregate(n=Sum("quantity"))["n"]
        or 0
    ) + shipped
    # Units a transfer brings to the pickup store are held for the order at their source.
    held += sum(pickup_units_awaiting(order).values())
    if order.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT and held >= wanted:
        statuses = set(
            order.fulfilments.exclude(
                status__in=[Fulfilment.Status.REJECTED, Fulfilment.Status.CANCELLED]
            ).values_list("status", flat=True)
        )
        if statuses == {Fulfilment.Status.COLLECTED}:
            return S.COLLECTED
        if statuses and statuses <= {
            Fulfilment.Status.READY_FOR_PICKUP,
            Fulfilment.Status.COLLECTED,
        }:
            return S.READY_FOR_PICKUP
    if shipped >= wanted:
        return S.SHIPPED
    if shipped > 0:
        return S.PARTIALLY_SHIPPED
    if held >= wanted:
        return S.ALLOCATED
    if held > 0:
        return S.PARTIALLY_ALLOCATED
    return S.BACKORDERED


def order_status_refresh(
    *, order: Order, actor: AbstractBaseUser | None = None, note: str = ""
) -> str:
    """Move the order to the status its state says, through the allowed transitions.

    The caller holds the order's lock.
    """
    if order.status in FINAL:
        return order.status
    new = order_status_derive(order)
    if new == order.status:
        return new
    order_ensure_can_become(order, new)
    old, order.status = order.status, new
    order.save(update_fields=["status", "updated_at"])
    if new == S.BACKORDERED:
        order_event_add(
            order=order,
            kind=OrderEvent.Kind.BACKORDERED,
            message=note or "Waiting for stock.",
            actor=actor,
        )
    elif new not in (S.ALLOCATED, S.PARTIALLY_ALLOCATED):
        # Allocations, shipments and pickups write their own events; this records the rest.
        order_event_add(
            order=order,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            message=note or f"{S(old).label} → {S(new).label}.",
            data={"from": old, "to": new},
            actor=actor,
            public=False,
        )
    return new
