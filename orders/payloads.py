"""The `data` of `order.*` events: the order as the orders endpoint shows it, without its
timeline. Order capture builds them from the rows it has just written (no read on the hot
path); the other writers read the order back."""

from __future__ import annotations

from collections.abc import Sequence

from fulfilment.models import Fulfilment
from fulfilment.payloads import fulfilment_draft, fulfilments_requested_drafts
from inventory.models import Allocation
from orders.models import Order, OrderLine
from orders.representation import (
    order_representation,
    order_representation_read,
    orders_for_output,
)
from outbox.emit import Draft
from outbox.events import FULFILMENT_REQUESTED, ORDER_CREATED, order_key


def order_captured_drafts(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    allocations: Sequence[Allocation],
    fulfilments: Sequence[Fulfilment],
) -> list[Draft]:
    """Return `order.created` and one `fulfilment.requested` per request, from the rows order
    capture has just written (allocations with their line and stock location). An order on
    hold sends no request: they go out when it is released (`fulfilments_released_drafts`)."""
    body = order_representation(
        order,
        lines=lines,
        holding=allocations,
        fulfilments=fulfilments,
        events=None,
        request=None,
    )
    created = Draft(ORDER_CREATED, body, None, order_key(order.pk))
    if order.held_for:
        return [created]
    return [
        created,
        *fulfilments_requested_drafts(
            order=order, fulfilments=fulfilments, allocations=allocations
        ),
    ]


def fulfilments_released_drafts(order: Order) -> list[Draft]:
    """Return `fulfilment.requested` for each request of an order just released from its
    hold: the requests it was placed with, and any made while it was held."""
    ids = Fulfilment.objects.filter(order=order, status=Fulfilment.Status.REQUESTED)
    return [
        fulfilment_draft(FULFILMENT_REQUESTED, pk)
        for pk in ids.order_by("pk").values_list("pk", flat=True)
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
