"""Allowed status transitions, as data, and the guards that enforce them."""

from __future__ import annotations

from fulfilment.models import Fulfilment
from orders.exceptions import InvalidTransition
from orders.models import Order

S = Order.Status
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.BACKORDERED, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.CANCELLED}),
    S.PARTIALLY_ALLOCATED: frozenset(
        {S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}
    ),
    S.ALLOCATED: frozenset(
        {
            S.PARTIALLY_ALLOCATED,
            S.BACKORDERED,
            S.PARTIALLY_SHIPPED,
            S.SHIPPED,
            S.READY_FOR_PICKUP,
            S.CANCELLED,
        }
    ),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.READY_FOR_PICKUP: frozenset({S.COLLECTED, S.CANCELLED, S.ALLOCATED}),
    S.COLLECTED: frozenset(),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

F = Fulfilment.Status
FULFILMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    # A location may ship or stage for pickup without an explicit accept: shipping implies it.
    F.REQUESTED: frozenset({F.ACCEPTED, F.REJECTED, F.SHIPPED, F.READY_FOR_PICKUP, F.CANCELLED}),
    F.ACCEPTED: frozenset({F.REJECTED, F.SHIPPED, F.READY_FOR_PICKUP, F.CANCELLED}),
    F.READY_FOR_PICKUP: frozenset({F.COLLECTED, F.CANCELLED}),
    F.SHIPPED: frozenset(),
    F.COLLECTED: frozenset(),
    F.REJECTED: frozenset(),
    F.CANCELLED: frozenset(),
}


def order_ensure_can_become(order: Order, status: str) -> None:
    if status != order.status and status not in ORDER_TRANSITIONS[order.status]:
        raise InvalidTransition(
            f"Order {order.number} is {Order.Status(order.status).label.lower()}; "
            f"it cannot become {Order.Status(status).label.lower()}.",
            field="status",
        )


def fulfilment_ensure_can_become(fulfilment: Fulfilment, status: str) -> None:
    if status not in FULFILMENT_TRANSITIONS[fulfilment.status]:
        raise InvalidTransition(
            f"Fulfilment {fulfilment.pk} is {Fulfilment.Status(fulfilment.status).label.lower()}; "
            f"it cannot become {Fulfilment.Status(status).label.lower()}.",
            field="status",
        )
