"""The `data` of `order.*` events: the order as the orders endpoint shows it, without its
timeline. Order capture builds them from the rows it has just written (no read on the hot
path); the other writers read the order back."""

from __future__ import annotations

from collections.abc import Sequence

from fulfilment.models import Fulfilment
from fulfilment.payloads import fulfilments_requested_drafts
from inventory.models import Allocation
from orders.models import Order, OrderLine
from orders.representation import (
    order_representation,
    order_representation_read,
    orders_for_output,
)
from outbox.emit import Draft
from outbox.events import ORDER_CREATED, order_key


def order_captured_drafts(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    allocations: Sequence[Allocation],
    fulfilments: Sequence[Fulfilment],
) -> list[Draft]:
    """Return `order.created` and one `fulfilment.requested` per request, from the rows order
    capture has just written (allocations with their line and stock location)."""
    body = order_representation(
        order,
        lines=lines,
        holding=allocations,
        fulfilments=fulfilments,
        events=None,
        request=None,
    )
    return [
        Draft(ORDER_CREATED, body, None, order_key(order.pk)),
        *fulfilments_requested_drafts(
            order=order, fulfilments=fulfilments, allocations=allocations
        ),
    ]


def order_draft(event: str, order_id: int) -> Draft:
    """Return `event` for an order as it is now in this transaction (read back)."""
    order = orders_for_output(events=False).get(pk=order_id)
    return Draft(
        event,
        order_representation_read(order, events=False, request=None),
        None,
        order_key(order.pk),
    )
